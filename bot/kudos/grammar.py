"""`/kudos …` and `/help …` text (and the kudos form's values) → kudos commands, or a ParseError
that says what to type."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping

from bot.kudos.commands import (
    GiveKudos,
    KudosCommand,
    KudosSettings,
    OpenKudosForm,
    Period,
    SetNotify,
    ShowHelp,
    ShowStats,
    ShowTop,
    UndoKudos,
)
from bot.lexicon import CHANNEL, MAX_COMMAND_LENGTH, MENTION, TAG, ParseError, tags_in

_SEPARATORS = {",", "and", "&", "+"}
_KEYWORDS = ("help", "undo", "stats", "top", "leaderboard", "settings", "notify")
SETTINGS_USAGE = (
    "Usage: /kudos settings celebrate here|channel #channel|nowhere, or /kudos settings dms on|off"
)

KUDOS_USAGE = "/kudos @person [@person …] what they did #tag"


def parse_kudos(args: str) -> KudosCommand:
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
    if keyword == "settings":
        return _parse_settings(words[1:])
    if keyword == "notify":
        return _parse_notify(words[1:])
    return _parse_give(args)


def _parse_settings(rest: list[str]) -> KudosSettings:
    if not rest:
        return KudosSettings()
    setting, values = rest[0].lower(), [word.lower() for word in rest[1:]]
    if setting == "celebrate" and values in (["here"], ["nowhere"]):
        return KudosSettings("celebrate", values[0])
    if setting == "celebrate" and len(rest) == 3 and values[0] in ("channel", "thread"):
        channel = CHANNEL.fullmatch(rest[2])
        if channel is not None:
            return KudosSettings("celebrate", values[0], channel.group(1))
    if setting == "dms" and values in (["on"], ["off"]):
        return KudosSettings("dms", values[0])
    raise ParseError(SETTINGS_USAGE)


def _parse_notify(rest: list[str]) -> SetNotify:
    if len(rest) != 1 or rest[0].lower() not in {"on", "off"}:
        raise ParseError("Usage: /kudos notify off|on — your own kudos DMs (pulses still come).")
    return SetNotify(on=rest[0].lower() == "on")


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
        _suggest_keyword(args)
        raise ParseError(
            f"Start with who you are thanking, e.g. `{KUDOS_USAGE}` — "
            "or type /kudos alone for a form."
        )
    remainder = args[position:]
    tags = tags_in(remainder)
    reason = re.sub(r"\s+", " ", TAG.sub("", remainder)).strip()
    return GiveKudos(recipients=tuple(recipients), reason=reason, tags=tags)


def _suggest_keyword(args: str) -> None:
    """`/kudos stat` or `/kudos tops` is a slip of the keyboard, not a kudos for nobody."""
    first = args.split()[0].lower()
    close = difflib.get_close_matches(first, _KEYWORDS, n=1, cutoff=0.75)
    if close:
        raise ParseError(f"I don't know '/kudos {first}'. Did you mean `/kudos {close[0]}`?")


def command_from_form(values: Mapping[str, object]) -> GiveKudos:
    """The kudos form's values (people, tags, reason) as the command typing would give."""

    def as_list(value: object) -> tuple[str, ...]:
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, list | tuple):
            return tuple(str(part) for part in value if str(part).strip())
        return (str(value),)

    reason = values.get("reason")
    return GiveKudos(
        recipients=as_list(values.get("recipients")),
        reason=reason if isinstance(reason, str) else "",
        tags=tuple(tag.lstrip("#").lower() for tag in as_list(values.get("tags"))),
    )


def parse_help(args: str) -> ShowHelp:
    return ShowHelp(args.strip().lower() or "kudos")


# The words this feature answers; install() registers them with the core.
PARSERS: dict[str, Callable[[str], KudosCommand]] = {"kudos": parse_kudos, "help": parse_help}
