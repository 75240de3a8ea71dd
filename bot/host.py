"""The host's contracts: what a feature's `install()` receives, and what a chat platform provides.

A feature registers the commands, forms and command words it answers and the scheduler tick it
needs, and is handed the shared services (database, clock, people, platforms, config). It never
sees the `Application`, and nothing is patched onto it after construction.

The platform ports (Platform, Sender, Directory, Delivery and its failures) are what adapters
implement; the core never imports an adapter. `Directory` and `PersonInfo` are defined with
`bot.people` and re-exported here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.messages import Message, Reply
from bot.ops.config import Config
from bot.people.actor import Caller
from bot.people.directory import People
from bot.people.lookup import Directory, PersonInfo
from bot.runtime.clock import Clock
from storage.db import Database

__all__ = [
    "CommandHandler",
    "Delivery",
    "DeliveryError",
    "Directory",
    "FindsDelivered",
    "FormHandler",
    "Host",
    "Parser",
    "PermanentFailure",
    "PersonInfo",
    "Platform",
    "RateLimited",
    "Registry",
    "TemporaryFailure",
    "Tick",
    "Ticker",
]

# -- the platform ports -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """The platform accepted the message; `ref` lets it be edited later (e.g. Slack's ts)."""

    ref: str | None = None


class DeliveryError(Exception):
    """Base of the outcomes a sender reports instead of `Delivery`."""


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float, detail: str = "rate limited") -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TemporaryFailure(DeliveryError):
    """Worth trying again later (timeouts, 5xx, 412)."""


class OutcomeUnknown(TemporaryFailure):
    """A new post failed after the request may have reached the platform (a timeout or a
    dropped connection after sending, a 5xx): it may have been delivered. Its retry checks
    first (`FindsDelivered`) or, where the platform cannot tell, counts a blind resend."""


class PermanentFailure(DeliveryError):
    """Trying again cannot help (user gone, bot blocked, channel archived)."""


class CannotTell(DeliveryError):
    """A delivery check could not find out (no permission to read, too much to look through)."""


class Sender(Protocol):
    """Delivers neutral messages into one workspace."""

    async def send(self, message: Message, *, key: str, replace_ref: str | None = None) -> Delivery:
        """Deliver `message`; `key` is its unique outbox key (platforms may tag the message with
        it so an in-doubt delivery can be recognised), `replace_ref` edits an earlier message."""
        ...


class FindsDelivered(Protocol):
    """Optional for a Sender: recognise a message an expired claim may already have delivered.

    The outbox asks before resending an in-doubt row. `message` is what would be sent (its
    audience names where to look), `since` a time no such delivery can predate. Answer None
    when it is certainly not there; raise `RateLimited` when it may be asked again later and
    `CannotTell` when it cannot say: the outbox then resends blindly (and counts it)."""

    async def find_delivered(
        self, key: str, *, message: Message, since: datetime | None = None
    ) -> Delivery | None: ...


class Platform(Protocol):
    """One chat platform as the core sees it, for any of its workspaces."""

    name: str

    def directory(self, workspace_external_id: str) -> Directory: ...

    def sender(self, workspace_external_id: str) -> Sender: ...


# -- what a feature receives --------------------------------------------------------------------

CommandHandler = Callable[[Caller, Any], Awaitable[Reply]]
# (caller, input values, the form's context, dedupe key) → reply with field errors if any
FormHandler = Callable[
    [Caller, Mapping[str, object], Mapping[str, str], str | None], Awaitable[Reply]
]
# A command word's parser: the text after the word → a command dataclass (or ParseError).
Parser = Callable[[str], object]
# The people a command's handler will look up whoever the caller turns out to be (checks that
# need no caller passed): asked about alongside the caller's own look-up.
LookedUpFirst = Callable[[Any], Sequence[str]]
# Called on every scheduler tick with the current time.
Tick = Callable[[datetime], Awaitable[None]]


class Registry(Protocol):
    """What the core offers features (implemented by `bot.core.Core`)."""

    def register_command(
        self,
        command_type: type,
        handler: CommandHandler,
        kind: str,
        *,
        anonymous: bool = False,
        looked_up_first: LookedUpFirst | None = None,
    ) -> None: ...

    def register_form(
        self, form_id: str, handler: FormHandler, *, anonymous: bool = False
    ) -> None: ...

    def register_parser(self, word: str, parser: Parser) -> None: ...

    def command_words(self) -> tuple[str, ...]: ...

    async def dispatch_text(self, caller: Caller, text: str) -> Reply: ...


class Ticker(Protocol):
    def register(self, name: str, work: Tick) -> None: ...


@dataclass(frozen=True)
class Host:
    """One feature's view of the bot. `kind` labels that feature's commands in the metrics."""

    kind: str
    config: Config
    db: Database
    clock: Clock
    people: People
    platforms: Mapping[str, Platform]
    wake_outbox: Callable[[], None]
    registry: Registry
    ticker: Ticker

    def register_command(
        self,
        command_type: type,
        handler: CommandHandler,
        *,
        anonymous: bool = False,
        looked_up_first: LookedUpFirst | None = None,
    ) -> None:
        """`anonymous`: the command carries an anonymous answer (docs/PRIVACY.md)."""
        self.registry.register_command(
            command_type, handler, self.kind, anonymous=anonymous, looked_up_first=looked_up_first
        )

    def register_form(self, form_id: str, handler: FormHandler, *, anonymous: bool = False) -> None:
        self.registry.register_form(form_id, handler, anonymous=anonymous)

    def register_parsers(self, parsers: Mapping[str, Parser]) -> None:
        for word, parser in parsers.items():
            self.registry.register_parser(word, parser)

    def schedule_tick(self, name: str, tick: Tick) -> None:
        self.ticker.register(name, tick)

    def command_words(self) -> tuple[str, ...]:
        return self.registry.command_words()

    async def run_text(self, caller: Caller, text: str) -> Reply:
        """Another feature's command, as the caller would type it: features ask each other
        through the core's words, never by importing each other."""
        return await self.registry.dispatch_text(caller, text)
