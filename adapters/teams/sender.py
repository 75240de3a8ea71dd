"""Proactive delivery into one tenant: channel posts, DMs (creating the 1:1 chat when there
is none yet), and edits of earlier messages.

There is no `find_delivered`: the connector cannot look up what a bot posted by our key, so a
delivery whose outcome was lost (a worker died mid-send, a 5xx or a timeout after the post went
out) is sent again after a delay — at least once; the outbox counts each such blind resend
(`kudos_pulse_outbox_blind_resends_total`).
Creating a 1:1 chat that already exists returns the existing one, so concurrent first DMs to
one person end up in the same chat."""

from __future__ import annotations

import copy
import logging

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from adapters.teams import cards
from adapters.teams.connection import TeamsConnection
from adapters.teams.connector import create_personal, delivery_error, in_conversation
from adapters.teams.conversations import personal_reference
from bot.host import Delivery, DeliveryError, PermanentFailure
from bot.messages import Chart, Message, ReplyTo, ToChannel, ToPerson
from storage.repositories import teams_refs

log = logging.getLogger(__name__)


def in_thread(reference: ConversationReference, thread_ref: str) -> ConversationReference:
    """The channel's reference, pointed at the thread of the post `thread_ref` names: Teams
    takes a reply to a channel post as `<channel>;messageid=<post id>`."""
    activity_id, conversation_id = split_ref(thread_ref)
    threaded = copy.deepcopy(reference)
    if threaded.conversation is not None and activity_id:
        channel = (conversation_id or threaded.conversation.id or "").split(";")[0]
        threaded.conversation.id = f"{channel};messageid={activity_id}"
    return threaded


def make_ref(conversation_id: str, activity_id: str | None) -> str | None:
    """What the outbox keeps to edit the message later."""
    return f"{activity_id} {conversation_id}" if activity_id else None


def split_ref(ref: str) -> tuple[str, str]:
    activity_id, _, conversation_id = ref.partition(" ")
    return activity_id, conversation_id


class TeamsSender:
    def __init__(self, platform: TeamsConnection, tenant_id: str) -> None:
        self.platform = platform
        self.tenant_id = tenant_id

    async def send(self, message: Message, *, key: str, replace_ref: str | None = None) -> Delivery:
        audience = message.audience
        if isinstance(audience, ToPerson):
            reference = await self.personal(audience.user_id)
        elif isinstance(audience, ToChannel):
            reference = await self.platform.refs.find(
                self.tenant_id, teams_refs.CHANNEL, audience.channel_id
            )
            if reference is None:
                raise PermanentFailure(
                    f"no conversation reference for channel {audience.channel_id}; "
                    "the app must be added to the team first"
                )
        else:
            assert isinstance(audience, ReplyTo)
            raise PermanentFailure("a reply has no proactive destination")
        if message.thread_ref and isinstance(audience, ToChannel) and not replace_ref:
            reference = in_thread(reference, message.thread_ref)
        chart_urls = await self._publish_charts(message)
        return await self.post(
            reference, cards.render(message, chart_urls=chart_urls), replace_ref=replace_ref
        )

    async def _publish_charts(self, message: Message) -> dict[int, str]:
        """URL by block index of each drawn chart, stored for GET /charts/<token>.png."""
        links = self.platform.charts
        urls: dict[int, str] = {}
        if links is None:
            return urls
        for index, block in enumerate(message.blocks):
            if isinstance(block, Chart) and block.png is not None:
                url = await links.publish(block.png)
                if url:
                    urls[index] = url
        return urls

    async def personal(self, user_id: str) -> ConversationReference:
        """The 1:1 chat with `user_id`, created (and stored) if the bot never had one."""
        refs = self.platform.refs
        reference = await refs.find(self.tenant_id, teams_refs.USER, user_id)
        if reference is not None:
            return reference
        known = await refs.latest(self.tenant_id)
        if not known:
            raise PermanentFailure(f"the bot is not installed anywhere in tenant {self.tenant_id}")
        template = known[0]
        try:
            conversation_id = await create_personal(
                self.platform.adapter, self.platform.app_id, template, user_id, self.tenant_id
            )
        except DeliveryError:
            raise
        except Exception as error:
            raise delivery_error(error) from error
        reference = personal_reference(template, conversation_id, user_id, self.tenant_id)
        await refs.save(self.tenant_id, teams_refs.USER, user_id, reference)
        return reference

    async def post(
        self, reference: ConversationReference, activity: Activity, *, replace_ref: str | None
    ) -> Delivery:
        async def work(context: TurnContext) -> Delivery:
            if replace_ref:
                activity_id, conversation_id = split_ref(replace_ref)
                activity.id = activity_id
                activity.conversation = context.activity.conversation
                if conversation_id and activity.conversation is not None:
                    activity.conversation.id = conversation_id
                await context.update_activity(activity)
                return Delivery(ref=replace_ref)
            # A new post, not a reply to the synthetic continuation activity: in a channel
            # this starts its own thread.
            outgoing = TurnContext.apply_conversation_reference(activity, reference)
            outgoing.reply_to_id = None
            conversation_id = reference.conversation.id if reference.conversation else ""
            connector = context.turn_state[context.adapter.BOT_CONNECTOR_CLIENT_KEY]
            try:
                response = await connector.conversations.send_to_conversation(
                    conversation_id, outgoing
                )
            except Exception as error:  # it may have been delivered: see `delivery_error`
                raise delivery_error(error, posting=True) from error
            return Delivery(ref=make_ref(conversation_id, response.id if response else None))

        try:
            return await in_conversation(
                self.platform.adapter, self.platform.app_id, reference, work
            )
        except DeliveryError:
            raise
        except Exception as error:
            raise delivery_error(error) from error
