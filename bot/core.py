"""The core's front door: adapters hand it (actor, text or command) and show what comes back."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

from bot import redaction
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
from bot.grammar import PARSERS, ParseError, parse, split_command
from bot.help import help_reply
from bot.metrics import COMMANDS, count_database_error
from bot.people import People
from bot.ports import Directory, Platform
from bot.recognition import KUDOS_FORM, GiveOptions, RecognitionService
from bot.reply import Reply
from storage.db import Database
from storage.repositories import events, teams

log = logging.getLogger(__name__)

# Keep processed-event keys well past Slack's longest retry schedule (delayed events: 24 h).
EVENT_MEMORY = timedelta(days=2)

CommandHandler = Callable[[Caller, Any], Awaitable[Reply]]
# (caller, input values, the form's context, dedupe key) → reply with field errors if any
FormHandler = Callable[
    [Caller, Mapping[str, object], Mapping[str, str], str | None], Awaitable[Reply]
]


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
        self._commands: dict[type, CommandHandler] = {}
        self._forms: dict[str, FormHandler] = {}
        self.recognition = RecognitionService(db, clock, config, self.people, on_enqueue)
        self._register_kudos()

    # -- registries: each feature registers the commands and forms it answers ---------------

    def register_command(self, command_type: type, handler: CommandHandler) -> None:
        self._commands[command_type] = handler

    def register_form(self, form_id: str, handler: FormHandler) -> None:
        self._forms[form_id] = handler

    def _register_kudos(self) -> None:
        kudos = self.recognition
        self.register_command(GiveKudos, kudos.give)
        self.register_command(OpenKudosForm, lambda caller, _command: kudos.form_reply())
        self.register_command(UndoKudos, lambda caller, _command: kudos.undo(caller))
        self.register_command(ShowStats, self._stats)
        self.register_command(ShowTop, lambda caller, command: kudos.top(caller, command.period))
        self.register_command(ShowHelp, self._help)

        async def give_from_form(
            caller: Caller,
            values: Mapping[str, object],
            _context: Mapping[str, str],
            dedupe_key: str | None,
        ) -> Reply:
            command = RecognitionService.command_from_form(values)
            return await kudos.give(
                caller, command, GiveOptions(source="form", dedupe_key=dedupe_key)
            )

        self.register_form(KUDOS_FORM, give_from_form)

    def directory(self, actor: Actor) -> Directory:
        return self.platforms[actor.platform].directory(actor.workspace_id)

    async def caller(self, actor: Actor) -> Caller:
        return await self.people.caller(actor, self.directory(actor))

    # -- entry points for adapters ------------------------------------------------------------

    async def handle_text(self, actor: Actor, text: str, *, dedupe_key: str | None = None) -> Reply:
        """A typed command such as `/kudos @a thanks for the help #easy`.

        `dedupe_key` (the platform's id for this invocation): handling the same invocation again
        (a re-run after a crash) changes nothing twice."""
        try:
            command = parse(text)
        except ParseError as error:
            COMMANDS.labels(kind=_typed_kind(text), outcome="refused").inc()
            return Reply.refused(str(error))
        kind = _typed_kind(text)
        if dedupe_key is not None and isinstance(command, GiveKudos):
            # Exactly once: the key is stored with the kudos, in its transaction.
            options = GiveOptions(dedupe_key=dedupe_key)
            return await self._guarded(
                actor, lambda caller: self.recognition.give(caller, command, options), kind
            )
        if dedupe_key is not None and not await self.first_sighting(dedupe_key):
            # Other commands change things that carry no key of their own (an undo, a new
            # schedule, a pulse sent now): at most once, so a re-run never does them twice.
            return Reply()
        return await self.handle(actor, command, kind=kind)

    async def handle(self, actor: Actor, command: Command, *, kind: str | None = None) -> Reply:
        """`kind` labels the metrics: the command word typed, else derived from the command."""
        return await self._guarded(
            actor, lambda caller: self._dispatch(caller, command), kind or command_kind(command)
        )

    async def submit_form(
        self,
        actor: Actor,
        form_id: str,
        values: Mapping[str, object],
        *,
        context: Mapping[str, str] | None = None,
        dedupe_key: str | None = None,
    ) -> Reply:
        """A submitted form; problems come back as `field_errors` keyed by input name.

        Adapters pass back the `Form.context` they rendered, untouched."""
        handler = self._forms.get(form_id)
        kind = _form_kind(form_id)
        if handler is None:
            COMMANDS.labels(kind=kind, outcome="refused").inc()
            return Reply.refused("That form is no longer available. Please start again.")
        with redaction.submitted(values):  # answers never reach a log line
            return await self._guarded(
                actor, lambda caller: handler(caller, values, context or {}, dedupe_key), kind
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
            actor, lambda caller: self.recognition.give(caller, command, options), "reaction"
        )

    async def revoke_for_reaction(self, actor: Actor, message_ref: str) -> Reply:
        return await self._guarded(
            actor,
            lambda caller: self.recognition.revoke_source(caller, "reaction", message_ref),
            "reaction",
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

    async def _guarded(self, actor: Actor, work: Callable[[Caller], object], kind: str) -> Reply:
        try:
            caller = await self.caller(actor)
            result = work(caller)
            reply: Reply = await result  # type: ignore[misc]
        except Exception as error:
            COMMANDS.labels(kind=kind, outcome="error").inc()
            count_database_error("command", error)
            incident = uuid.uuid4().hex[:8]
            log.exception(
                "command failed (incident %s) for %s/%s", incident, actor.platform, actor.user_id
            )
            return Reply.refused(
                f"Sorry — something went wrong on our side (incident {incident}). Nothing was "
                "saved. Please try again; if it keeps happening, give this code to your admin."
            )
        COMMANDS.labels(kind=kind, outcome="ok" if reply.ok else "refused").inc()
        return reply

    async def _dispatch(self, caller: Caller, command: Command) -> Reply:
        handler = self._commands.get(type(command))
        if handler is None:
            return Reply.refused("That command is not available yet.")
        return await handler(caller, command)

    async def _stats(self, caller: Caller, command: ShowStats) -> Reply:
        may_view_others = caller.is_admin
        if command.user_id and not may_view_others:
            async with self.db.read() as session:
                may_view_others = await teams.leads_person(
                    session, caller.person_id, caller.workspace_id, command.user_id
                )
        return await self.recognition.stats(caller, command.user_id, may_view_others)

    async def _help(self, caller: Caller, command: ShowHelp) -> Reply:
        # `/help pulse` is `/pulse help`: each feature owns its help text.
        topic = command.topic.removesuffix("s") if command.topic != "kudos" else "kudos"
        if topic not in {"kudos", "help"} and topic in PARSERS:
            return await self._dispatch(caller, parse(f"/{topic} help"))
        return help_reply(self.config, command.topic)


# -- metric labels: a few fixed words, never ids ------------------------------------------------


def command_kind(command: object) -> str:
    """kudos, help, pulse, team, digest …: a command's `kind` attribute if it declares one,
    else the feature package it comes from (bot.pulses.commands → "pulse")."""
    declared = getattr(command, "kind", None)
    if isinstance(declared, str):
        return declared
    module = type(command).__module__.split(".")
    if module[:2] == ["bot", "commands"]:
        return "help" if type(command).__name__ == "ShowHelp" else "kudos"
    feature = module[1] if len(module) > 1 and module[0] == "bot" else module[-1]
    # bot.team_commands → "team", bot.pulses.commands → "pulse"
    return feature.split("_")[0].removesuffix("s") or "other"


def _typed_kind(text: str) -> str:
    try:
        word, _ = split_command(text)
    except ParseError:
        return "unknown"
    return word if word in PARSERS else "unknown"


def _form_kind(form_id: str) -> str:
    """Form ids are few and fixed ("kudos", "pulse.answer" …); the first word names the kind."""
    first = form_id.replace(":", ".").split(".")[0]
    return f"form:{first}"[:40]
