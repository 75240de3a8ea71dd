"""Bolt listeners: acknowledge at once, translate the payload, hand the work to the core.

The Bolt app runs with `process_before_response=True`, so Slack's HTTP response leaves as soon
as a listener returns. Listeners therefore `ack()` first. Slash commands and events then go to
the inbox (stored, deduplicated by Slack's id, acted on by a worker — possibly another
process); interactions run as tracked background work in this process, because a pulse answer
must never be written down with its author's id, and a modal submission must even answer
inside its ack (its field errors can only travel there), within a budget. No business rule
lives here.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from adapters.slack.background import BackgroundWork
from adapters.slack.blockkit import BUTTON_ACTION, MODAL_CALLBACK, SUBMIT_ACTION
from adapters.slack.clients import SlackClients
from adapters.slack.forms import read_button, read_metadata, read_plain_button, read_values
from adapters.slack.replies import ReplyPresenter, Where
from adapters.slack.text import neutral_text
from bot.core import Core
from bot.kudos.commands import KudosForReaction, RevokeReactionKudos
from bot.messages import Reply
from bot.ops import logcontext
from bot.ops.config import Config
from bot.people.actor import Actor
from bot.runtime.inbox import Inbox

# A modal submission waits this long for the core (field errors must go back in the ack);
# slower answers close the modal and arrive as a private message instead.
VIEW_BUDGET_SECONDS = 2.0

Ack = Callable[..., Awaitable[Any]]
ANYTHING = re.compile(r".*")
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
    ) -> None:
        self.core = core
        self.config = config
        self.clients = clients
        self.presenter = presenter
        self.work = work
        self.inbox = inbox

    def register(self, bolt: AsyncApp) -> None:
        self.inbox.register(COMMAND, self._command)
        self.inbox.register(REACTION_ADDED, lambda body: self._reaction(body, added=True))
        self.inbox.register(REACTION_REMOVED, lambda body: self._reaction(body, added=False))
        self.inbox.register(UNINSTALLED, self._uninstalled)
        bolt.command(re.compile(r"^/"))(self.on_command)
        bolt.view_submission(MODAL_CALLBACK)(self.on_view_submission)
        bolt.view_closed(ANYTHING)(self.on_ignored)
        bolt.action(SUBMIT_ACTION)(self.on_form_submit)
        bolt.action(re.compile(rf"^{BUTTON_ACTION}:"))(self.on_button)
        bolt.action(ANYTHING)(self.on_ignored)
        bolt.event("reaction_added")(self.on_reaction_added)
        bolt.event("reaction_removed")(self.on_reaction_removed)
        bolt.event("app_uninstalled")(self.on_uninstalled)
        bolt.event("tokens_revoked")(self.on_uninstalled)
        bolt.event(ANYTHING)(self.on_ignored)

    # -- slash commands ----------------------------------------------------------------------

    async def on_command(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        # Without a trigger id (never seen) the command counts as new.
        key = _command_key(body) or f"slack:command:{uuid.uuid4().hex}"
        self.inbox.accept(COMMAND, key, body)

    async def _command(self, body: dict[str, Any]) -> None:
        team_id = _team_of(body)
        actor = Actor(
            platform="slack",
            workspace_id=team_id,
            user_id=body["user_id"],
            channel_id=body.get("channel_id") or None,
            display_name=body.get("user_name", ""),
            workspace_name=body.get("team_domain", ""),
        )
        text = f"{body.get('command', '')} {neutral_text(body.get('text') or '')}".strip()
        trigger = body.get("trigger_id")
        with logcontext.bind(platform="slack", trigger_id=trigger):
            # The invocation's key: a re-run after a crash changes nothing twice.
            reply = await self.core.handle_text(actor, text, dedupe_key=_command_key(body))
            where = Where(
                team_id=team_id,
                user_id=actor.user_id,
                channel_id=actor.channel_id,
                response_url=body.get("response_url"),
                trigger_id=trigger,
            )
            await self._answer(reply, where)

    # -- forms -------------------------------------------------------------------------------

    async def on_view_submission(self, ack: Ack, body: dict[str, Any]) -> None:
        view = body["view"]
        submission = read_metadata(view.get("private_metadata", ""))
        if submission is None:
            await ack()
            return
        user = body["user"]
        actor = self._actor(body, user, submission.channel_id)
        values = read_values(view.get("state", {}).get("values", {}))
        task = self.work.spawn(
            self.core.submit_form(
                actor,
                submission.form_id,
                values,
                context=submission.context,
                dedupe_key=f"slack:view:{view.get('id')}:{view.get('hash')}",
            ),
            name="slack-view-submission",
            bounded=False,  # someone is looking at the modal: it must not queue behind a burst
        )
        where = Where(actor.workspace_id, actor.user_id, channel_id=actor.channel_id)
        done, _ = await asyncio.wait({task}, timeout=VIEW_BUDGET_SECONDS)
        if task not in done:
            await ack()
            self.work.spawn(self._show_later(task, where), name="slack-view-reply", bounded=False)
            return
        reply = task.result()
        errors = _field_errors(reply, view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        self._show(reply, where)

    async def _show_later(self, task: asyncio.Task[Reply], where: Where) -> None:
        self._show(await task, where)

    async def on_form_submit(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        self.work.spawn(self._form_submit(body), name="slack-form-submit")

    async def _form_submit(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        submission = read_button(action.get("value", ""))
        if submission is None:
            return
        key = f"slack:action:{body['user']['id']}:{action.get('action_ts')}"
        # Slack may deliver one click twice; only the first copy is acted on, in any process.
        if not await self.core.first_sighting(key):
            return
        where = self._where(body)
        actor = self._actor(body, body["user"], where.channel_id)
        values = read_values((body.get("state") or {}).get("values", {}))
        with logcontext.bind(platform="slack", action_id=key):
            reply = await self.core.submit_form(
                actor, submission.form_id, values, context=submission.context, dedupe_key=key
            )
            self._show(reply, where)

    async def on_button(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        self.work.spawn(self._button(body), name="slack-button")

    async def _button(self, body: dict[str, Any]) -> None:
        """A plain button: its action names the form that receives it, with its value."""
        action = body["actions"][0]
        pressed = read_plain_button(action.get("value", ""))
        if pressed is None:
            return
        key = f"slack:action:{body['user']['id']}:{action.get('action_ts')}"
        if not await self.core.first_sighting(key):
            return
        form_id, value = pressed
        where = self._where(body)
        actor = self._actor(body, body["user"], where.channel_id)
        reply = await self.core.submit_form(actor, form_id, {"value": value}, dedupe_key=key)
        self._show(reply, where)

    # -- reactions ---------------------------------------------------------------------------

    async def on_reaction_added(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        if self._is_kudos_reaction(body):
            self.inbox.accept(REACTION_ADDED, _event_key(body), body)

    async def on_reaction_removed(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        if self._is_kudos_reaction(body):
            self.inbox.accept(REACTION_REMOVED, _event_key(body), body)

    def _is_kudos_reaction(self, body: dict[str, Any]) -> bool:
        event = body.get("event") or {}
        name = str(event.get("reaction", "")).split("::")[0]  # drop ::skin-tone-N
        item = event.get("item") or {}
        return (
            name == self.config.kudos.reaction
            and item.get("type") == "message"
            and bool(event.get("item_user"))
        )

    async def _reaction(self, body: dict[str, Any], *, added: bool) -> None:
        event = body["event"]
        item = event["item"]
        team_id = _team_of(body)
        actor = Actor(
            platform="slack",
            workspace_id=team_id,
            user_id=event["user"],
            channel_id=item["channel"],
        )
        ref = f"{item['channel']}:{item['ts']}"
        with logcontext.bind(platform="slack", event_id=body.get("event_id")):
            if added:
                text = await self._message_text(team_id, item["channel"], item["ts"])
                reply = await self.core.handle(
                    actor,
                    KudosForReaction(
                        author_id=event["item_user"],
                        message_text=neutral_text(text),
                        message_ref=ref,
                        event_key=_event_key(body),
                    ),
                )
            else:
                reply = await self.core.handle(actor, RevokeReactionKudos(message_ref=ref))
            await self._answer(
                reply, Where(team_id=team_id, user_id=actor.user_id, channel_id=item["channel"])
            )

    async def _message_text(self, team_id: str, channel: str, ts: str) -> str:
        """The reacted-to message's text, if Slack lets us read it; "" otherwise."""
        try:
            client = await self.clients.for_workspace(team_id)
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

    # -- installations -----------------------------------------------------------------------

    async def on_uninstalled(self, ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        if self.clients.installations is not None:
            self.inbox.accept(UNINSTALLED, _event_key(body), body)

    async def _uninstalled(self, body: dict[str, Any]) -> None:
        """The workspace removed the app: forget its token, so nothing tries to use it."""
        store = self.clients.installations
        if store is not None:
            enterprise = body.get("enterprise_id") or None
            await store.async_delete_all(enterprise_id=enterprise, team_id=body.get("team_id"))

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

    # -- translation helpers -----------------------------------------------------------------

    def _actor(self, body: dict[str, Any], user: dict[str, Any], channel_id: str | None) -> Actor:
        return Actor(
            platform="slack",
            workspace_id=_team_of(body),
            user_id=user["id"],
            channel_id=channel_id,
            display_name=user.get("username") or user.get("name") or "",
        )

    def _where(self, body: dict[str, Any]) -> Where:
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
            "channel_id"
        )
        return Where(
            team_id=_team_of(body),
            user_id=body["user"]["id"],
            channel_id=channel,
            response_url=body.get("response_url"),
        )


# Inbox kinds this adapter stores and handles.
COMMAND = "slack.command"
REACTION_ADDED = "slack.reaction_added"
REACTION_REMOVED = "slack.reaction_removed"
UNINSTALLED = "slack.uninstalled"


def _command_key(body: dict[str, Any]) -> str | None:
    """A slash command's trigger id: unique per invocation, the same if it is delivered again."""
    trigger = body.get("trigger_id")
    return f"slack:command:{_team_of(body)}:{trigger}" if trigger else None


def _event_key(body: dict[str, Any]) -> str:
    """Slack's event id: the same on every redelivery of one event."""
    return f"slack:event:{body.get('event_id') or uuid.uuid4().hex}"


def _team_of(body: dict[str, Any]) -> str:
    """The workspace a payload belongs to (commands, events and interactions differ)."""
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(body.get("team_id") or body.get("enterprise_id") or "")


def _field_errors(reply: Reply, view: dict[str, Any]) -> dict[str, str]:
    """The reply's problems keyed by the modal's input blocks (Slack shows them under each)."""
    inputs = [block["block_id"] for block in view.get("blocks", []) if block.get("type") == "input"]
    errors = {name: text for name, text in reply.field_errors.items() if name in inputs}
    if not reply.ok and not errors and inputs:
        # A refusal that names no input still belongs in the modal, not in a lost message.
        text = reply.messages[0].text if reply.messages else "That did not work."
        errors = {inputs[0]: text}
    return {name: text[:2000] for name, text in errors.items()}
