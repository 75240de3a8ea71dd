"""The Teams activity handler: hands each translated activity to the core, shows its replies.

Each activity is read once, by `inbound.read`, when its turn starts; no rule lives here.
Commands come by @mention in channels and group chats and as plain text in the personal
chat; card submissions come as message activities carrying `value`.

Private answers: Teams has no ephemeral messages in channels, so an answer meant only for
the sender (a refusal, a confirmation, the kudos form) goes to the sender's 1:1 chat with
the bot, created if needed. In the personal chat, and for public replies, the bot answers in
place. If the 1:1 chat cannot be reached the answer is shown in place rather than lost.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any, ClassVar

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity
from msrest.serialization import Model

from adapters.teams import cards
from adapters.teams.charts import HomeCharts
from adapters.teams.connector import with_retry
from adapters.teams.directory import BOT_PREFIX
from adapters.teams.inbound import Inbound, is_card_action, read
from adapters.teams.platform import TeamsPlatform
from bot.core import Core
from bot.home.commands import ShowHome
from bot.host import DeliveryError
from bot.messages import Message, PeopleInput, Reply, ReplyTo, Section, Text, private_reply
from bot.ops import logcontext
from bot.people.actor import Actor

log = logging.getLogger(__name__)

# How an `adaptiveCard/action` invoke is answered (Universal Actions): with a card that
# replaces the pressed one, or with a message Teams shows beside the card, which stays.
UPDATED_CARD = "application/vnd.microsoft.card.adaptive"
MESSAGE = "application/vnd.microsoft.activity.message"
DONE = "✅ Done."

# Where a turn keeps its translated activity: the SDK's dispatch (`on_…` methods) only hands
# on the turn context, and the activity is read once, when the turn starts.
INBOUND = "kudos_pulse.inbound"


def inbound_of(turn_context: TurnContext) -> Inbound:
    inbound = turn_context.turn_state.get(INBOUND)
    assert isinstance(inbound, Inbound), "on_turn translates every activity first"
    return inbound


class KudosTeamsBot(TeamsActivityHandler):
    def __init__(
        self, platform: TeamsPlatform, core: Core, home_charts: HomeCharts | None = None
    ) -> None:
        self.platform = platform
        self.core = core
        # A lead's home card shows their teams' maps by signed URL (adapters/teams/charts.py).
        self.home_charts = home_charts

    async def _with_charts(self, message: Message) -> tuple[Message, dict[int, str]]:
        if self.home_charts is None:
            return message, {}
        return await self.home_charts.urls(message)

    async def on_turn(self, turn_context: TurnContext) -> None:
        inbound = read(turn_context.activity)
        turn_context.turn_state[INBOUND] = inbound
        with logcontext.bind(
            platform="teams",
            request_id=inbound.activity_id,
            workspace=inbound.conversation.tenant_id,
        ):
            try:
                await super().on_turn(turn_context)
            except Exception:  # answer 2xx anyway: a redelivery would not go better
                log.exception("teams turn failed (%s)", inbound.activity_type)

    # -- conversations: remember where the bot can reach people -----------------------------

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        await self.platform.refs.remember(inbound_of(turn_context).conversation)
        added = turn_context.activity.members_added or []
        if any(member.id == turn_context.activity.recipient.id for member in added):
            await self._welcome_home(turn_context)
        await super().on_conversation_update_activity(turn_context)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        await self.platform.refs.remember(inbound_of(turn_context).conversation)
        if (turn_context.activity.action or "add").startswith("add"):
            await self._welcome_home(turn_context)

    async def _welcome_home(self, turn_context: TurnContext) -> None:
        """Installed in someone's personal scope: their home card, once (Teams may announce one
        install both as conversationUpdate and as installationUpdate)."""
        inbound = inbound_of(turn_context)
        actor = inbound.actor
        if actor is None or not inbound.conversation.is_personal:
            return
        if not await self.core.first_sighting(f"teams:home:{actor.workspace_id}:{actor.user_id}"):
            return
        reply = await self.core.handle(actor, ShowHome())
        await self._show(turn_context, inbound, actor, reply)

    # -- messages -------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        inbound = await self._prepared(inbound_of(turn_context))
        actor = inbound.actor
        if actor is None:
            return
        if inbound.submission is not None:
            await self._submission(turn_context, inbound, actor, inbound.submission)
        elif inbound.text is not None:
            await self._command(turn_context, inbound, actor, inbound.text)

    async def _prepared(self, inbound: Inbound) -> Inbound:
        if self._anonymous(inbound):
            # A pulse answer: no stored reference, no dedupe row — nothing written beside the
            # person in this turn but the sealed answer itself (docs/PRIVACY.md). A second
            # copy of the press just saves the same answer again.
            return replace(inbound, dedupe_key=None)
        await self.platform.refs.remember(inbound.conversation)
        return inbound

    # -- Universal Actions: an Action.Execute press, answered in the turn --------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if is_card_action(turn_context.activity):
            # Answered here rather than by the SDK's on_adaptive_card_invoke, whose response
            # model cannot carry the message answer (a string) Teams documents.
            return InvokeResponse(status=200, body=await self._card_action(turn_context))
        return await super().on_invoke_activity(turn_context)

    async def _card_action(self, turn_context: TurnContext) -> CardActionAnswer:
        inbound = await self._prepared(inbound_of(turn_context))
        actor, submission = inbound.actor, inbound.submission
        if actor is None or submission is None:
            return _toast("This card is no longer in use.")
        reply = await self._submitted(turn_context, inbound, actor, submission)
        if reply is None:
            return _toast("Already received.")  # the same press delivered again
        if not reply.ok:
            # The card stays as it is, so the person can correct it and press again.
            problems = [message.text for message in reply.messages]
            return _toast(" ".join(problems or reply.field_errors.values()) or "That did not work.")
        shown_here = [
            message
            for message in reply.messages
            if inbound.conversation.is_personal
            and isinstance(message.audience, ReplyTo)
            and not message.audience.public
        ][:1]
        others = [message for message in reply.messages if message not in shown_here]
        await self._show(turn_context, inbound, actor, replace(reply, messages=others))
        # The pressed card is replaced by the answer: the buttons go, nothing is repeated.
        # A home answers a refresh with itself, made for the person looking at it.
        answer, chart_urls = await self._with_charts(
            shown_here[0] if shown_here else private_reply(DONE)
        )
        return _updated_card(answer, actor.user_id, chart_urls)

    def _anonymous(self, inbound: Inbound) -> bool:
        if inbound.submission is not None:
            return self.core.is_anonymous_form(inbound.submission.form_id)
        return inbound.text is not None and self.core.is_anonymous_text(inbound.text)

    async def _command(
        self, turn_context: TurnContext, inbound: Inbound, actor: Actor, text: str
    ) -> None:
        self.platform.learn_names(actor.workspace_id, list(inbound.mentioned))
        # The activity's key: a kudos stores it with itself (exactly once, no separate write);
        # any other command is recorded once before it runs. A copy delivered again is silent.
        reply = await self.core.handle_text(actor, text, dedupe_key=inbound.dedupe_key)
        await self._show(turn_context, inbound, actor, reply)

    async def _submission(
        self,
        turn_context: TurnContext,
        inbound: Inbound,
        actor: Actor,
        submission: cards.Submission,
    ) -> None:
        reply = await self._submitted(turn_context, inbound, actor, submission)
        if reply is None:
            return  # a double click, or Teams delivering the same submit again
        if not reply.messages and reply.field_errors:
            reply = Reply.refused(" ".join(reply.field_errors.values()))
        await self._show(turn_context, inbound, actor, reply)

    async def _submitted(
        self,
        turn_context: TurnContext,
        inbound: Inbound,
        actor: Actor,
        submission: cards.Submission,
    ) -> Reply | None:
        """The core's answer to a card's submit; None when this press was seen already."""
        key = inbound.dedupe_key
        if key and not await self.core.first_sighting(key):
            return None
        values = dict(submission.values)
        for name, picked in submission.people.items():
            values[name] = [await self._teams_id(turn_context, actor, pick) for pick in picked]
        return await self.core.submit_form(
            actor,
            submission.form_id,
            values,
            context=submission.context,
            dedupe_key=key,
        )

    async def _teams_id(self, turn_context: TurnContext, actor: Actor, picked: str) -> str:
        """The people picker gives AAD object ids; the core knows people by `29:` ids. Ask
        this conversation first, then the ones the directory shares with the tenant."""
        if picked.startswith(("29:", BOT_PREFIX)):
            return picked
        try:
            account = await TeamsInfo.get_member(turn_context, picked)
            if account is not None and account.id:
                self.platform.learn_names(actor.workspace_id, [(account.id, account.name or "")])
                return account.id
        except Exception as error:  # not in this conversation: try the others
            log.debug("picked %s not found in this conversation: %r", picked, error)
        member = await self.platform.directory(actor.workspace_id).member(picked)
        return member.user_id if member is not None else picked

    # -- showing the core's answer --------------------------------------------------------

    async def _show(
        self, turn_context: TurnContext, inbound: Inbound, actor: Actor, reply: Reply
    ) -> None:
        in_personal_chat = inbound.conversation.is_personal
        sender = self.platform.sender(actor.workspace_id)
        for message in reply.messages:
            audience = message.audience
            people = await self._roster_for(actor, message)
            message, chart_urls = await self._with_charts(message)
            rendered = cards.render(
                message,
                origin=actor.channel_id,
                people=people,
                viewer=actor.user_id,
                chart_urls=chart_urls,
            )
            if isinstance(audience, ReplyTo) and (audience.public or in_personal_chat):
                await with_retry(lambda rendered=rendered: turn_context.send_activity(rendered))
            elif isinstance(audience, ReplyTo):
                await self._privately(turn_context, actor, message, rendered)
            else:
                await sender.send(message, key=inbound.reply_key)

    async def _roster_for(self, actor: Actor, message: Message) -> cards.People | None:
        """For a form with a people input asked for in a channel or group chat: its members."""
        form = message.form
        if form is None or actor.channel_id is None:
            return None
        if not any(isinstance(field, PeopleInput) for field in form.inputs):
            return None
        try:
            members = await self.platform.directory(actor.workspace_id).roster(
                actor.channel_id, limit=cards.MAX_PEOPLE_CHOICES
            )
        except Exception as error:  # the org-wide people picker still works
            log.info("no roster for %s: %r", actor.channel_id, error)
            return None
        names = self.platform.names
        return [
            (member, names.get((actor.workspace_id, member), member))
            for member in members
            if member != actor.user_id
        ]

    async def _privately(
        self, turn_context: TurnContext, actor: Actor, message: Message, rendered: Activity
    ) -> None:
        sender = self.platform.sender(actor.workspace_id)

        async def send() -> None:
            reference = await sender.personal(actor.user_id)
            await sender.post(reference, rendered, replace_ref=None)

        try:
            await with_retry(send)
        except DeliveryError as error:
            log.warning(
                "could not reach %s privately (%s); answering in place", actor.user_id, error
            )
            await turn_context.send_activity(cards.render(private_reply(message.text)))


class CardActionAnswer(Model):  # type: ignore[misc]
    """The body of an `adaptiveCard/action` invoke response. The SDK's own model types `value`
    as an object, so it cannot carry the message (a string) answer; the aiohttp integration
    serializes the body with msrest, so this is one of its models."""

    _attribute_map: ClassVar[dict[str, dict[str, str]]] = {
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "object"},
    }

    def __init__(self, *, type: str, value: Any, status_code: int = 200) -> None:
        super().__init__()
        self.status_code = status_code
        self.type = type
        self.value = value


def _updated_card(
    message: Message, viewer: str, chart_urls: dict[int, str] | None = None
) -> CardActionAnswer:
    if not message.blocks:  # a plain answer still needs a card body
        message = message.model_copy(update={"blocks": [Section(spans=[Text(text=message.text)])]})
    card = cards.adaptive_card(message, viewer=viewer, chart_urls=chart_urls)
    return CardActionAnswer(type=UPDATED_CARD, value=card)


def _toast(text: str) -> CardActionAnswer:
    return CardActionAnswer(type=MESSAGE, value=text)
