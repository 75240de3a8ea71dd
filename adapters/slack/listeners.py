"""Bolt listeners: acknowledge at once, translate the payload once, hand it to the core.

The Bolt app runs with `process_before_response=True`, so Slack's HTTP response leaves as soon
as a listener returns. Listeners therefore `ack()` first. Slash commands and events then go to
the inbox (stored, deduplicated by Slack's id, acted on by a worker — possibly another
process); interactions run as tracked background work in this process, because a pulse answer
must never be written down with its author's id, and a modal submission must even answer
inside its ack (its field errors can only travel there), within a budget. Payloads are read
by `inbound` only; no business rule lives here.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from adapters.slack.background import BackgroundWork
from adapters.slack.blockkit import BUTTON_ACTION, MODAL_CALLBACK, SUBMIT_ACTION
from adapters.slack.clients import SlackClients
from adapters.slack.home import HomePublisher
from adapters.slack.inbound import (
    DirectMessage,
    FormSubmit,
    Reaction,
    SlashCommand,
    Where,
    command_key,
    read_action,
    read_command,
    read_direct_message,
    read_home_opened,
    read_rate_limit,
    read_reaction,
    read_uninstall,
    read_view_submission,
)
from adapters.slack.replies import ReplyPresenter
from adapters.slack.text import neutral_text
from bot.core import Core
from bot.home.messages import RUN as HOME_RUN
from bot.kudos.commands import KudosForReaction, RevokeReactionKudos
from bot.kudos.messages import KUDOS_FORM
from bot.messages import Reply
from bot.ops import logcontext
from bot.ops.config import Config
from bot.pulses.messages import PULSE_FORM
from bot.runtime.inbox import Inbox
from bot.runtime.pictures import PictureCache

# A modal submission waits this long for the core (field errors must go back in the ack);
# slower answers close the modal and arrive as a private message instead.
VIEW_BUDGET_SECONDS = 2.0

Ack = Callable[..., Awaitable[Any]]
ANYTHING = re.compile(r".*")
# After these forms (opened from the Home tab, among other places) the person's home shows
# something new: it is published again, as they may be looking at it behind the modal.
HOME_CHANGING_FORMS = {KUDOS_FORM, PULSE_FORM, HOME_RUN}
log = logging.getLogger(__name__)


class SlackListeners:
    def __init__(
        self,
        core: Core,
        config: Config,
        clients: SlackClients,
        presenter: ReplyPresenter,
        work: BackgroundWork,
        inbox: Inbox,
        pictures: PictureCache | None = None,
    ) -> None:
        self.core = core
        self.config = config
        self.clients = clients
        self.presenter = presenter
        self.work = work
        self.inbox = inbox
        self.home = HomePublisher(core, clients, pictures)

    def register(self, bolt: AsyncApp) -> None:
        self.inbox.register(COMMAND, self._command)
        self.inbox.register(REACTION_ADDED, self._reaction)
        self.inbox.register(REACTION_REMOVED, self._reaction)
        self.inbox.register(UNINSTALLED, self._uninstalled)
        self.inbox.register(DIRECT_MESSAGE, self._direct_message)
        self.inbox.register(RATE_LIMITED, self._rate_limited)
        # `app_rate_limited` is no event, command or interaction: only a middleware sees it.
        bolt.use(self.on_rate_limited)
        bolt.command(re.compile(r"^/"))(self.on_command)
        bolt.view_submission(MODAL_CALLBACK)(self.on_view_submission)
        # A view some other tool opened under this app: acknowledging closes it.
        bolt.view_submission(ANYTHING)(self.on_ignored)
        bolt.view_closed(ANYTHING)(self.on_ignored)
        bolt.action(SUBMIT_ACTION)(self.on_form_submit)
        bolt.action(re.compile(rf"^{BUTTON_ACTION}:"))(self.on_button)
        bolt.action(ANYTHING)(self.on_ignored)
        # Our forms have no external selects; any other app's menu gets an empty list.
        bolt.options(ANYTHING)(self.on_options)
        # The manifest declares no shortcuts; one added by hand is acknowledged and logged.
        bolt.shortcut(ANYTHING)(self.on_shortcut)
        bolt.event("reaction_added")(self.on_reaction_added)
        bolt.event("reaction_removed")(self.on_reaction_removed)
        bolt.event("app_uninstalled")(self.on_uninstalled)
        bolt.event("tokens_revoked")(self.on_uninstalled)
        bolt.event("message")(self.on_message)
        bolt.event("app_home_opened")(self.on_home_opened)
        bolt.event(ANYTHING)(self.on_ignored)
        # Anything else Slack signs (a payload kind newer than this code) still gets 200.
        bolt.error(self.on_error)

    # -- slash commands ----------------------------------------------------------------------

    async def on_command(self, ack: Ack, body: dict[str, Any], request: AsyncBoltRequest) -> None:
        await ack()
        command = read_command(body)
        if self.core.is_anonymous_text(command.text):
            # A typed pulse answer never waits in the inbox beside its author's id
            # (docs/PRIVACY.md): it is handled here, now, and written nowhere else.
            self.work.spawn(self._anonymous_command(command), name="slack-answer")
            return
        # Without a trigger id (never seen) the command counts as new.
        key = command_key(body) or f"slack:command:{uuid.uuid4().hex}"
        self.inbox.accept(COMMAND, key, body, redelivery=_redelivered(request))

    async def _anonymous_command(self, command: SlashCommand) -> None:
        reply = await self.core.handle_text(command.actor, command.text)
        self._show(reply, command.where)

    async def _command(self, body: dict[str, Any]) -> None:
        command = read_command(body)
        with logcontext.bind(platform="slack", trigger_id=command.where.trigger_id):
            # The invocation's key: a re-run after a crash changes nothing twice.
            reply = await self.core.handle_text(
                command.actor, command.text, dedupe_key=command.dedupe_key
            )
            await self._answer(reply, command.where)

    # -- forms -------------------------------------------------------------------------------

    async def on_view_submission(self, ack: Ack, body: dict[str, Any]) -> None:
        submit = read_view_submission(body)
        if submit is None:
            await ack()
            return
        task = self.work.spawn(
            self._submit_form(submit),
            name="slack-view-submission",
            bounded=False,  # someone is looking at the modal: it must not queue behind a burst
        )
        done, _ = await asyncio.wait({task}, timeout=VIEW_BUDGET_SECONDS)
        if task not in done:
            await ack()
            self.work.spawn(self._show_later(task, submit), name="slack-view-reply", bounded=False)
            return
        reply = task.result()
        errors = _field_errors(reply, submit.input_blocks)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        self._show(reply, submit.where)
        self._after_form(submit, reply)

    async def _show_later(self, task: asyncio.Task[Reply], submit: FormSubmit) -> None:
        reply = await task
        self._show(reply, submit.where)
        self._after_form(submit, reply)

    async def on_form_submit(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        self.work.spawn(self._action(body), name="slack-form-submit")

    async def on_button(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        self.work.spawn(self._action(body), name="slack-button")

    async def _action(self, body: dict[str, Any]) -> None:
        """An inline form's submit, or a plain button naming the form that receives it."""
        submit = read_action(body)
        if submit is None:
            return
        if self.core.is_anonymous_form(submit.form_id):
            # A pulse answer: no dedupe row with the person's id and the time (a second copy
            # of the click simply saves the same answer again), nothing in the log context.
            self._show(await self._submit_form(submit), submit.where)
            return
        # Slack may deliver one click twice; only the first copy is acted on, in any process.
        if not await self.core.first_sighting(submit.dedupe_key):
            return
        with logcontext.bind(platform="slack", action_id=submit.dedupe_key):
            self._show(await self._submit_form(submit), submit.where)

    async def _submit_form(self, submit: FormSubmit) -> Reply:
        return await self.core.submit_form(
            submit.actor,
            submit.form_id,
            submit.values,
            context=submit.context,
            dedupe_key=submit.dedupe_key,
        )

    # -- the Home tab ------------------------------------------------------------------------

    async def on_home_opened(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        actor = read_home_opened(body)
        if actor is not None:
            # Opening it again just publishes it again: nothing to deduplicate.
            self.work.spawn(self.home.opened(actor), name="slack-home", bounded=False)

    def _after_form(self, submit: FormSubmit, reply: Reply) -> None:
        """A form's change shows in the person's home: publish it again, off the ack path,
        read-only (the form may have carried a pulse answer). Typed commands and reactions
        publish nothing: they happen outside the Home tab, and Slack sends app_home_opened
        each time someone enters it, which publishes it fresh (docs/PERFORMANCE.md)."""
        if reply.ok and submit.form_id in HOME_CHANGING_FORMS:
            self.work.spawn(self.home.refresh(submit.actor), name="slack-home", bounded=False)

    # -- reactions ---------------------------------------------------------------------------

    async def on_reaction_added(
        self, ack: Ack, body: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        await self._on_reaction(ack, body, REACTION_ADDED, _redelivered(request))

    async def on_reaction_removed(
        self, ack: Ack, body: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        await self._on_reaction(ack, body, REACTION_REMOVED, _redelivered(request))

    async def _on_reaction(
        self, ack: Ack, body: dict[str, Any], kind: str, redelivery: bool
    ) -> None:
        await ack()
        reaction = read_reaction(body)
        if reaction is not None and self._is_kudos_reaction(reaction):
            self.inbox.accept(kind, reaction.dedupe_key, body, redelivery=redelivery)

    def _is_kudos_reaction(self, reaction: Reaction) -> bool:
        return (
            reaction.emoji == self.config.kudos.reaction
            and reaction.on_message
            and reaction.author_id is not None
        )

    async def _reaction(self, body: dict[str, Any]) -> None:
        reaction = read_reaction(body)
        if reaction is None:
            return  # not expected: the door stores only reactions it could read
        actor = reaction.actor
        with logcontext.bind(platform="slack", event_id=reaction.event_id):
            if not reaction.added:
                reply = await self.core.handle(
                    actor, RevokeReactionKudos(message_ref=reaction.message_ref)
                )
            elif reaction.author_id is not None:
                text = (
                    ""
                    if actor.is_external
                    else await self._message_text(
                        actor.workspace_id, actor.team_id, reaction.channel_id, reaction.ts
                    )
                )
                reply = await self.core.handle(
                    actor,
                    KudosForReaction(
                        author_id=reaction.author_id,
                        message_text=neutral_text(text),
                        message_ref=reaction.message_ref,
                        event_key=reaction.dedupe_key,
                    ),
                )
            else:
                return  # not expected: the door stores only reactions to someone's message
            await self._answer(reply, reaction.where)

    async def _message_text(self, scope: str, team_id: str, channel: str, ts: str) -> str:
        """The reacted-to message's text, if Slack lets us read it; "" otherwise."""
        try:
            client = await self.clients.for_workspace(scope, team_id)
            history = await client.conversations_history(
                channel=channel, latest=ts, inclusive=True, limit=1
            )
            for message in history.get("messages") or []:
                if message.get("ts") == ts:
                    return str(message.get("text") or "")
            replies = await client.conversations_replies(channel=channel, ts=ts, limit=1)
            for message in replies.get("messages") or []:
                if message.get("ts") == ts:
                    return str(message.get("text") or "")
        except (TimeoutError, SlackApiError, OSError) as error:
            code = error.response.get("error") if isinstance(error, SlackApiError) else error
            log.info("cannot read the reacted-to message (%s); the kudos has no text", code)
        return ""

    # -- direct messages ---------------------------------------------------------------------

    async def on_message(
        self, ack: Ack, body: dict[str, Any], context: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        await ack()
        message = read_direct_message(body, context.get("bot_user_id"))
        if message is None:
            return  # not typed by a person in the bot's DM (edits, deletions, bots, channels)
        if self.core.is_anonymous_text(message.text):
            # A pulse answer takes the one anonymous path (docs/PRIVACY.md): never the inbox.
            # Nothing is stored to recognise a redelivery, so a retry is dropped at the door.
            if not _redelivered(request):
                self.work.spawn(self._anonymous_message(message), name="slack-answer")
            return
        self.inbox.accept(
            DIRECT_MESSAGE, message.dedupe_key, body, redelivery=_redelivered(request)
        )

    async def _anonymous_message(self, message: DirectMessage) -> None:
        reply = await self.core.handle_text(message.actor, message.text)
        self._show(reply, message.where)

    async def _direct_message(self, body: dict[str, Any]) -> None:
        message = read_direct_message(body, None)  # the door already dropped the bot's own
        if message is None:
            return
        with logcontext.bind(platform="slack", event_id=message.event_id):
            reply = await self.core.handle_text(
                message.actor, message.text, dedupe_key=message.dedupe_key
            )
            await self._answer(reply, message.where)

    # -- rate limits -------------------------------------------------------------------------

    async def on_rate_limited(
        self, body: dict[str, Any], next: Callable[[], Awaitable[Any]]
    ) -> BoltResponse | None:
        notice = read_rate_limit(body)
        if notice is None:
            await next()
            return None
        log.warning(
            "slack holds back events for %s this minute (app_rate_limited); sending pauses",
            notice.team_id,
        )
        # Workers send the outbox, possibly in another process: tell them through the inbox.
        self.inbox.accept(RATE_LIMITED, notice.dedupe_key, body)
        return BoltResponse(status=200, body="")

    async def _rate_limited(self, body: dict[str, Any]) -> None:
        notice = read_rate_limit(body)
        if notice is not None:
            seconds = self.clients.pauses.pause_for_minute(notice.team_id, notice.minute_started)
            log.info("sending to %s paused for %.0f s", notice.team_id, seconds)

    # -- installations -----------------------------------------------------------------------

    async def on_uninstalled(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        if self.clients.installations is not None:
            self.inbox.accept(UNINSTALLED, read_uninstall(body).dedupe_key, body)

    async def _uninstalled(self, body: dict[str, Any]) -> None:
        """The workspace removed the app: forget its token, so nothing tries to use it."""
        store = self.clients.installations
        if store is not None:
            uninstall = read_uninstall(body)
            await store.async_delete_all(
                enterprise_id=uninstall.enterprise_id, team_id=uninstall.team_id
            )

    def _show(self, reply: Reply, where: Where) -> None:
        """Answer outside the bounded slots: it only waits on Slack, not on the database."""
        if reply.messages:
            self.work.spawn(self.presenter.show(reply, where), name="slack-reply", bounded=False)

    async def _answer(self, reply: Reply, where: Where) -> None:
        """Answer from an inbox handler: the request counts as done once Slack has the answer."""
        if reply.messages:
            await self.presenter.show(reply, where)

    # -- everything else ---------------------------------------------------------------------

    async def on_ignored(self, ack: Ack) -> None:
        await ack()

    async def on_options(self, ack: Ack) -> None:
        await ack(options=[])

    async def on_shortcut(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        log.info("slack shortcut %r is not one of ours; ignored", body.get("callback_id"))

    async def on_error(
        self, error: Exception, body: dict[str, Any], logger: logging.Logger
    ) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            log.info("slack %s payload has no listener; answered 200", body.get("type"))
            return BoltResponse(status=200, body="")
        # What Bolt's default handler does (same logger); the response stays a 500.
        logger.exception(f"Failed to run listener function (error: {error})")
        return None


# Inbox kinds this adapter stores and handles.
COMMAND = "slack.command"
REACTION_ADDED = "slack.reaction_added"
REACTION_REMOVED = "slack.reaction_removed"
UNINSTALLED = "slack.uninstalled"
DIRECT_MESSAGE = "slack.direct_message"
RATE_LIMITED = "slack.rate_limited"


def _field_errors(reply: Reply, inputs: tuple[str, ...]) -> dict[str, str]:
    """The reply's problems keyed by the modal's input blocks (Slack shows them under each)."""
    errors = {name: text for name, text in reply.field_errors.items() if name in inputs}
    if not reply.ok and not errors and inputs:
        # A refusal that names no input still belongs in the modal, not in a lost message.
        text = reply.messages[0].text if reply.messages else "That did not work."
        errors = {inputs[0]: text}
    return {name: text[:2000] for name, text in errors.items()}


def _redelivered(request: AsyncBoltRequest) -> bool:
    """Slack marks a delivery it repeats (no timely ack, an error) with a retry number."""
    return bool(request.headers.get("x-slack-retry-num"))
