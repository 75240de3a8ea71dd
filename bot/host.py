"""The narrow contract a feature's `install()` receives: everything a feature may use of the bot.

A feature registers the commands, forms and command words it answers and the scheduler tick it
needs, and is handed the shared services (database, clock, people, platforms, config). It never
sees the `Application`, and nothing is patched onto it after construction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.messages import Reply
from bot.ops.config import Config
from bot.people.actor import Caller
from bot.people.directory import People
from bot.ports import Platform
from bot.runtime.clock import Clock
from storage.db import Database

CommandHandler = Callable[[Caller, Any], Awaitable[Reply]]
# (caller, input values, the form's context, dedupe key) → reply with field errors if any
FormHandler = Callable[
    [Caller, Mapping[str, object], Mapping[str, str], str | None], Awaitable[Reply]
]
# A command word's parser: the text after the word → a command dataclass (or ParseError).
Parser = Callable[[str], object]
# Called on every scheduler tick with the current time.
Tick = Callable[[datetime], Awaitable[None]]


class Registry(Protocol):
    """What the core offers features (implemented by `bot.core.Core`)."""

    def register_command(
        self, command_type: type, handler: CommandHandler, kind: str, *, anonymous: bool = False
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
        self, command_type: type, handler: CommandHandler, *, anonymous: bool = False
    ) -> None:
        """`anonymous`: the command carries an anonymous answer (docs/PRIVACY.md)."""
        self.registry.register_command(command_type, handler, self.kind, anonymous=anonymous)

    def register_form(
        self, form_id: str, handler: FormHandler, *, anonymous: bool = False
    ) -> None:
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
