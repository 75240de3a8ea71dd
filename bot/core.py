"""The core's front door: adapters hand it (actor, text or command) and show what comes back."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta

from bot.actor import Actor, Caller
from bot.clock import Clock
from bot.commands import (
    Command,
    GiveKudos,
    OpenKudosForm,
    ShowHelp,
    ShowStats,
    ShowTop,
    UndoKudos,
)
from bot.config import Config
from bot.grammar import ParseError, parse
from bot.help import help_reply
from bot.people import People
from bot.ports import Directory, Platform
from bot.recognition import KUDOS_FORM, GiveOptions, RecognitionService
from bot.reply import Reply
from storage.db import Database
from storage.repositories import events, teams

log = logging.getLogger(__name__)

# Keep processed-event keys well past Slack's longest retry schedule (delayed events: 24 h).
EVENT_MEMORY = timedelta(days=2)


class Core:
    def __init__(
        self,
        config: Config,
        db: Database,
        clock: Clock,
        platforms: Mapping[str, Platform],
        on_enqueue: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.platforms = platforms
        self.people = People(db, clock, config)
        self.recognition = RecognitionService(db, clock, config, self.people, on_enqueue)

    def directory(self, actor: Actor) -> Directory:
        return self.platforms[actor.platform].directory(actor.workspace_id)

    async def caller(self, actor: Actor) -> Caller:
        return await self.people.caller(actor, self.directory(actor))

    # -- entry points for adapters ------------------------------------------------------------

    async def handle_text(self, actor: Actor, text: str) -> Reply:
        """A typed command such as `/kudos @a thanks for the help #easy`."""
        try:
            command = parse(text)
        except ParseError as error:
            return Reply.refused(str(error))
        return await self.handle(actor, command)

    async def handle(self, actor: Actor, command: Command) -> Reply:
        return await self._guarded(actor, lambda caller: self._dispatch(caller, command))

    async def submit_form(
        self,
        actor: Actor,
        form_id: str,
        values: Mapping[str, object],
        *,
        dedupe_key: str | None = None,
    ) -> Reply:
        """A submitted form; problems come back as `field_errors` keyed by input name."""
        if form_id != KUDOS_FORM:
            return Reply.refused("That form is no longer available. Please start again.")
        command = RecognitionService.command_from_form(values)
        options = GiveOptions(source="form", dedupe_key=dedupe_key)
        return await self._guarded(
            actor, lambda caller: self.recognition.give(caller, command, options)
        )

    async def give_for_reaction(
        self, actor: Actor, author_id: str, message_text: str, message_ref: str, event_key: str
    ) -> Reply:
        """The configured reaction on a message gives kudos to its author."""
        from bot.grammar import TAG

        tags = tuple(dict.fromkeys(tag.lower() for tag in TAG.findall(message_text)))
        command = GiveKudos(recipients=(author_id,), reason=message_text, tags=tags)
        options = GiveOptions(
            source="reaction", source_ref=message_ref, dedupe_key=event_key, strict_reason=False
        )
        return await self._guarded(
            actor, lambda caller: self.recognition.give(caller, command, options)
        )

    async def revoke_for_reaction(self, actor: Actor, message_ref: str) -> Reply:
        return await self._guarded(
            actor, lambda caller: self.recognition.revoke_source(caller, "reaction", message_ref)
        )

    async def first_sighting(self, key: str) -> bool:
        """True the first time any process sees `key` (platform event id, action id …)."""
        now = self.clock.now()
        async with self.db.write() as session:
            first = await events.first_sighting(session, key, now)
            if first and hash(key) % 100 == 0:  # prune now and then, not on every event
                await events.forget_older_than(session, now - EVENT_MEMORY)
        return first

    # -- internals ----------------------------------------------------------------------------

    async def _guarded(self, actor: Actor, work: Callable[[Caller], object]) -> Reply:
        try:
            caller = await self.caller(actor)
            result = work(caller)
            return await result  # type: ignore[misc]
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception(
                "command failed (incident %s) for %s/%s", incident, actor.platform, actor.user_id
            )
            return Reply.refused(
                f"Sorry — something went wrong on our side (incident {incident}). Nothing was "
                "saved. Please try again; if it keeps happening, give this code to your admin."
            )

    async def _dispatch(self, caller: Caller, command: Command) -> Reply:
        match command:
            case GiveKudos():
                return await self.recognition.give(caller, command)
            case OpenKudosForm():
                return self.recognition.form()
            case UndoKudos():
                return await self.recognition.undo(caller)
            case ShowStats(user_id=user_id):
                may_view_others = caller.is_admin or await self._leads(caller, user_id)
                return await self.recognition.stats(caller, user_id, may_view_others)
            case ShowTop(period=period):
                return await self.recognition.top(caller, period)
            case ShowHelp(topic=topic):
                return help_reply(self.config, topic)
        return Reply.refused("That command is not available yet.")

    async def _leads(self, caller: Caller, user_id: str | None) -> bool:
        if not user_id:
            return False
        async with self.db.read() as session:
            return await teams.leads_person(session, caller.person_id, caller.workspace_id, user_id)
