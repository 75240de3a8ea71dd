"""Chat text → typed commands, or a ParseError that tells the user how to fix it.

Adapters hand over *neutral* text: a person is written `<@USER_ID>` and a channel `<#CHANNEL_ID>`
whatever the platform's own markup, and platform escaping (`&amp;` …) is already undone.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

from bot.commands import (
    Command,
    GiveKudos,
    OpenKudosForm,
    Period,
    ShowHelp,
    ShowStats,
    ShowTop,
    UndoKudos,
)

MAX_COMMAND_LENGTH = 4000
MENTION = re.compile(r"<@([^<>\s|]+)(?:\|[^<>]*)?>")
CHANNEL = re.compile(r"<#([^<>\s|]+)(?:\|[^<>]*)?>")
# A tag starts with a letter, so "#1 priority" stays ordinary text.
TAG = re.compile(r"(?<![\w&#<])#([A-Za-z][A-Za-z0-9_-]{0,31})\b")
_SEPARATORS = {",", "and", "&", "+"}

KUDOS_USAGE = "/kudos @person [@person …] what they did #tag"


class ParseError(ValueError):
    """The text is not a command we understand; the message says what to type instead."""


def split_command(text: str) -> tuple[str, str]:
    """'/kudos @a thanks' → ('kudos', '@a thanks')."""
    text = text.strip()
    if len(text) > MAX_COMMAND_LENGTH:
        raise ParseError(
            f"That message is {len(text):,} characters long; commands are limited to "
            f"{MAX_COMMAND_LENGTH:,}."
        )
    word, _, rest = text.partition(" ")
    return word.lstrip("/").lower(), rest.strip()


def parse(text: str) -> Command:
    """Parse a whole line such as `/kudos @a thanks for the help #easy` or `kudos help`."""
    name, args = split_command(text)
    parser = PARSERS.get(name)
    if parser is None:
        known = ", ".join(f"/{word}" for word in PARSERS)
        raise ParseError(f"I don't know the command '{name or text}'. Try {known}.")
    return parser(args)


def parse_kudos(args: str) -> Command:
    if len(args) > MAX_COMMAND_LENGTH:
        raise ParseError(
            f"That is too long; commands are limited to {MAX_COMMAND_LENGTH:,} characters."
        )
    words = args.split()
    if not words:
        return OpenKudosForm()
    keyword = words[0].lower()
    if keyword in {"help", "?"}:
        return ShowHelp("kudos")
    if keyword == "undo":
        _no_more(words[1:], "/kudos undo")
        return UndoKudos()
    if keyword == "stats":
        return _parse_stats(words[1:])
    if keyword in {"top", "leaderboard"}:
        return _parse_top(words[1:])
    return _parse_give(args)


def _no_more(rest: list[str], usage: str) -> None:
    if rest:
        raise ParseError(f"'{usage}' takes nothing after it.")


def _parse_stats(rest: list[str]) -> ShowStats:
    if not rest:
        return ShowStats()
    match = MENTION.fullmatch(rest[0])
    if match is None or len(rest) > 1:
        raise ParseError("Usage: /kudos stats [@person]")
    return ShowStats(user_id=match.group(1))


def _parse_top(rest: list[str]) -> ShowTop:
    periods: dict[str, Period] = {"week": "week", "month": "month", "quarter": "quarter"}
    if not rest:
        return ShowTop()
    if len(rest) > 1 or rest[0].lower() not in periods:
        raise ParseError("Usage: /kudos top [week|month|quarter]")
    return ShowTop(period=periods[rest[0].lower()])


def _parse_give(args: str) -> GiveKudos:
    recipients: list[str] = []
    position = 0
    token = re.compile(r"\s*(<@[^<>\s|]+(?:\|[^<>]*)?>|,|and\b|&|\+)", re.IGNORECASE)
    while match := token.match(args, position):
        piece = match.group(1)
        if piece.lower() not in _SEPARATORS:
            user_id = MENTION.fullmatch(piece)
            assert user_id is not None
            if user_id.group(1) not in recipients:
                recipients.append(user_id.group(1))
        position = match.end()
    if not recipients:
        raise ParseError(
            f"Start with who you are thanking, e.g. `{KUDOS_USAGE}` — "
            "or type /kudos alone for a form."
        )
    remainder = args[position:]
    tags = tuple(dict.fromkeys(tag.lower() for tag in TAG.findall(remainder)))
    reason = re.sub(r"\s+", " ", TAG.sub("", remainder)).strip()
    return GiveKudos(recipients=tuple(recipients), reason=reason, tags=tags)


def parse_pulse(args: str) -> Command:
    from bot.pulses.grammar import parse_pulse as parse  # the feature owns its grammar

    return parse(args)  # type: ignore[return-value]


def parse_answer(args: str) -> Command:
    from bot.pulses.grammar import parse_answer as parse

    return parse(args)  # type: ignore[return-value]


def parse_help(args: str) -> Command:
    return ShowHelp(args.strip().lower() or "kudos")


def _feature(module: str, name: str) -> Callable[[str], Command]:
    """A feature's parser, imported on first use: feature parsers import the helpers above,
    so importing them here at load time would be circular."""

    def parse_feature(args: str) -> Command:
        parser: Callable[[str], Command] = getattr(importlib.import_module(module), name)
        return parser(args)

    return parse_feature


PARSERS: dict[str, Callable[[str], Command]] = {
    "kudos": parse_kudos,
    "help": parse_help,
    "team": _feature("bot.team_grammar", "parse_team"),
    "digest": _feature("bot.digest_grammar", "parse_digest"),
    "pulse": parse_pulse,
    "answer": parse_answer,
}
