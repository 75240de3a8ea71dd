"""The core's front door: adapters hand it (actor, text or command) and show what comes back."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, is_dataclass, replace
from datetime import timedelta

from bot.host import CommandHandler, Directory, FormHandler, LookedUpFirst, Parser, Platform
from bot.lexicon import ParseError, split_command
from bot.messages import Reply
from bot.ops import redaction
from bot.ops.config import Config
from bot.ops.metrics import COMMANDS, count_database_error
from bot.people.actor import Actor, Caller
from bot.people.directory import People, one_request
from bot.runtime.clock import Clock
from storage.db import Database
from storage.repositories import events

log = logging.getLogger(__name__)

# Keep processed-event keys well past Slack's longest retry schedule (delayed events: 24 h).
EVENT_MEMORY = timedelta(days=2)



NOT_ASKED = "You weren't asked in that pulse, so there is nothing to answer."
# Slack Connect: the organisation that installed the bot is its data boundary.
EXTERNAL = (
    "Kudos & Pulse here belongs to the organisation that installed it, and you are a guest "
    "from another organisation in this shared channel, so it can't record anything for you. "
    "Nothing was saved. Your own organisation can install Kudos & Pulse for itself."
)


class Grammar:
    """The command words the installed features answer, each with its feature's parser."""

    def __init__(self) -> None:
        self._parsers: dict[str, Parser] = {}

    def register(self, word: str, parser: Parser) -> None:
        if word in self._parsers:
            raise ValueError(f"two features claim the command word {word!r}")
        self._parsers[word] = parser

    def words(self) -> tuple[str, ...]:
        return tuple(self._parsers)

    def parse(self, text: str) -> object:
        """Parse a whole line such as `/kudos @a thanks for the help #easy` or `kudos help`."""
        name, args = split_command(text)
        parser = self._parsers.get(name)
        if parser is None:
            known = ", ".join(f"/{word}" for word in self._parsers)
            raise ParseError(f"I don't know the command '{name or text}'. Try {known}.")
        return parser(args)


class Core:
    def __init__(
        self, config: Config, db: Database, clock: Clock, platforms: Mapping[str, Platform]
    ) -> None:
        self.config = config
        self.db = db
        self.clock = clock
        self.platforms = platforms
        self.people = People(db, clock, config)
        self.grammar = Grammar()
        self._commands: dict[type, CommandHandler] = {}
        self._kinds: dict[type, str] = {}
        self._forms: dict[str, FormHandler] = {}
        # Commands and forms that carry an anonymous answer (docs/PRIVACY.md): handled with a
        # read-only caller, never deduplicated by user, never logged with the person.
        self._anonymous: set[type | str] = set()
        self._looked_up_first: dict[type, LookedUpFirst] = {}

    # -- registries: each feature registers the commands, forms and words it answers ----------

    def register_command(
        self,
        command_type: type,
        handler: CommandHandler,
        kind: str,
        *,
        anonymous: bool = False,
        looked_up_first: LookedUpFirst | None = None,
    ) -> None:
        """`kind` labels the command in the metrics (kudos, team, digest, pulse …).
        `looked_up_first`: the people the handler will look up whatever the caller's record
        says, fetched from the directory together with the caller's own look-up."""
        self._commands[command_type] = handler
        self._kinds[command_type] = kind
        if anonymous:
            self._anonymous.add(command_type)
        if looked_up_first is not None:
            self._looked_up_first[command_type] = looked_up_first

    def register_form(
        self, form_id: str, handler: FormHandler, *, anonymous: bool = False
    ) -> None:
        self._forms[form_id] = handler
        if anonymous:
            self._anonymous.add(form_id)

    def is_anonymous_form(self, form_id: str) -> bool:
        """Adapters ask before any write of their own (dedupe rows, references, the inbox)."""
        return form_id in self._anonymous

    def is_anonymous_text(self, text: str) -> bool:
        """Whether typed text is an anonymous answer (`/answer …`), before it is queued."""
        try:
            return type(self.grammar.parse(text)) in self._anonymous
        except ParseError:
            return False

    def register_parser(self, word: str, parser: Parser) -> None:
        self.grammar.register(word, parser)

    def command_words(self) -> tuple[str, ...]:
        return self.grammar.words()

    async def dispatch_text(self, caller: Caller, text: str) -> Reply:
        return await self.dispatch(caller, self.grammar.parse(text))

    def directory(self, actor: Actor) -> Directory:
        return self.platforms[actor.platform].directory(actor.workspace_id)

    async def caller(
        self, actor: Actor, named: Sequence[str] = (), fetch_ahead: Sequence[str] = ()
    ) -> Caller:
        return await self.people.caller(actor, self.directory(actor), named, fetch_ahead)

    # -- entry points for adapters ------------------------------------------------------------

    async def handle_text(self, actor: Actor, text: str, *, dedupe_key: str | None = None) -> Reply:
        """A typed command such as `/kudos @a thanks for the help #easy`.

        `dedupe_key` (the platform's id for this invocation): handling the same invocation again
        (a re-run after a crash) changes nothing twice."""
        kind = self._typed_kind(text)
        try:
            command = self.grammar.parse(text)
        except ParseError as error:
            COMMANDS.labels(kind=kind, outcome="refused").inc()
            return Reply.refused(str(error))
        if type(command) in self._anonymous:
            # Never deduplicated by user: answering again simply replaces the answer.
            return await self.handle(actor, command, kind=kind)
        if dedupe_key is not None and _keeps_own_key(command):
            # Exactly once: the feature stores the key with what it writes, in one transaction.
            return await self.handle(actor, replace(command, dedupe_key=dedupe_key), kind=kind)  # type: ignore[type-var]
        if dedupe_key is not None and not await self.first_sighting(dedupe_key):
            # Other commands change things that carry no key of their own (an undo, a new
            # schedule, a pulse sent now): at most once, so a re-run never does them twice.
            return Reply()
        return await self.handle(actor, command, kind=kind)

    async def handle(self, actor: Actor, command: object, *, kind: str | None = None) -> Reply:
        """`kind` labels the metrics: the command word typed, else the command's own."""
        ahead = self._people_looked_up_first(command)
        return await self._guarded(
            actor,
            lambda caller: self.dispatch(caller, command),
            kind or self.command_kind(command),
            anonymous=type(command) in self._anonymous,
            named=(*_named_people(command), *ahead),
            fetch_ahead=ahead,
        )

    def _people_looked_up_first(self, command: object) -> Sequence[str]:
        looked_up_first = self._looked_up_first.get(type(command))
        return () if looked_up_first is None else looked_up_first(command)

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
            anonymous = form_id in self._anonymous
            return await self._guarded(
                actor,
                lambda caller: handler(caller, values, context or {}, dedupe_key),
                kind,
                anonymous=anonymous,
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

    async def _guarded(
        self,
        actor: Actor,
        work: Callable[[Caller], object],
        kind: str,
        *,
        anonymous: bool = False,
        named: Sequence[str] = (),
        fetch_ahead: Sequence[str] = (),
    ) -> Reply:
        if actor.is_external:  # refused before anything about them is looked up or stored
            COMMANDS.labels(kind=kind, outcome="refused").inc()
            return Reply.refused(EXTERNAL)
        with one_request():
            return await self._run_guarded(actor, work, kind, anonymous, named, fetch_ahead)

    async def _run_guarded(
        self,
        actor: Actor,
        work: Callable[[Caller], object],
        kind: str,
        anonymous: bool,
        named: Sequence[str],
        fetch_ahead: Sequence[str],
    ) -> Reply:
        try:
            if anonymous:
                known = await self.people.known_caller(actor, self.directory(actor))
                if known is None:
                    COMMANDS.labels(kind=kind, outcome="refused").inc()
                    return Reply.refused(NOT_ASKED)
                caller = known
            else:
                caller = await self.caller(actor, named, fetch_ahead)
            if caller.person.is_external:  # the directory told what the payload did not
                COMMANDS.labels(kind=kind, outcome="refused").inc()
                return Reply.refused(EXTERNAL)
            result = work(caller)
            reply: Reply = await result  # type: ignore[misc]
        except Exception as error:
            COMMANDS.labels(kind=kind, outcome="error").inc()
            count_database_error("command", error)
            incident = uuid.uuid4().hex[:8]
            if anonymous:
                # Not even the person goes into the log: an answer's time and author together
                # are exactly what must not be written down anywhere.
                log.exception("anonymous answer failed (incident %s)", incident)
                return Reply.refused(
                    f"⚠️ Your answer was NOT saved — something went wrong on our side (incident "
                    f"{incident}). Please answer again in a minute."
                )
            log.exception(
                "command failed (incident %s) for %s/%s", incident, actor.platform, actor.user_id
            )
            return Reply.refused(
                f"Sorry — something went wrong on our side (incident {incident}). Nothing was "
                "saved. Please try again; if it keeps happening, give this code to your admin."
            )
        COMMANDS.labels(kind=kind, outcome="ok" if reply.ok else "refused").inc()
        return reply

    # -- metric labels: a few fixed words, never ids ----------------------------------------

    def command_kind(self, command: object) -> str:
        """A command's declared `kind` if it has one, else its feature's."""
        declared = getattr(command, "kind", None)
        if isinstance(declared, str):
            return declared
        return self._kinds.get(type(command), "other")

    def _typed_kind(self, text: str) -> str:
        try:
            word, _ = split_command(text)
        except ParseError:
            return "unknown"
        return word if word in self.grammar.words() else "unknown"

    async def dispatch(self, caller: Caller, command: object) -> Reply:
        handler = self._commands.get(type(command))
        if handler is None:
            return Reply.refused("That command is not available yet.")
        return await handler(caller, command)

# -- metric labels: a few fixed words, never ids ------------------------------------------------


def _keeps_own_key(command: object) -> bool:
    """A command with a `dedupe_key` field stores the platform's key itself (exactly once)."""
    return is_dataclass(command) and "dedupe_key" in {f.name for f in fields(command)}


def _named_people(command: object) -> tuple[str, ...]:
    """A command with a `recipients` field names people its feature will look up: they are
    read together with the caller (one statement instead of one each)."""
    if is_dataclass(command) and "recipients" in {f.name for f in fields(command)}:
        return tuple(str(user_id) for user_id in getattr(command, "recipients", ()))
    return ()


def _form_kind(form_id: str) -> str:
    """Form ids are few and fixed ("kudos", "pulse.answer" …); the first word names the kind."""
    first = form_id.replace(":", ".").split(".")[0]
    return f"form:{first}"[:40]
