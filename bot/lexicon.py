"""The core's shared words: how people, channels and tags are written in neutral text, the
error a parser raises, and how user-written text is made safe to repeat in chat.

Adapters hand over *neutral* text: a person is written `<@USER_ID>` and a channel `<#CHANNEL_ID>`
whatever the platform's own markup, and platform escaping (`&amp;` …) is already undone.
Each feature's grammar builds on these; none of them knows about any feature.
"""

from __future__ import annotations

import re

MAX_COMMAND_LENGTH = 4000
MENTION = re.compile(r"<@([^<>\s|]+)(?:\|[^<>]*)?>")
CHANNEL = re.compile(r"<#([^<>\s|]+)(?:\|[^<>]*)?>")
# A tag starts with a letter, so "#1 priority" stays ordinary text.
TAG = re.compile(r"(?<![\w&#<])#([A-Za-z][A-Za-z0-9_-]{0,31})\b")


class ParseError(ValueError):
    """The text is not a command we understand; the message says what to type instead."""


# The largest id a person can mean: every id column holds at least a 32-bit signed integer
# (PostgreSQL INTEGER), so a larger number names nothing — and must not reach a query.
MAX_ID = 2**31 - 1
_ASCII_NUMBER = re.compile(r"[0-9]{1,10}")


def typed_number(text: str, low: int = 0, high: int = MAX_ID) -> int | None:
    """A number a person typed: ASCII digits only, within [low, high]; otherwise None.
    (`'²'.isdigit()` is true and `int('²')` raises; `int('١٢')` is 12.)"""
    if not _ASCII_NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


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


# A group of people, written `team:NAME` (or NAME where only a team can stand).
TEAM_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def team_name(word: str, usage: str) -> str:
    """'team:Support' or 'support' → 'support'."""
    name = word.lower().removeprefix("team:")
    if not TEAM_NAME.match(name):
        raise ParseError(
            f"'{word}' is not a team name: use 1-32 letters, digits, '-' or '_' "
            f"(e.g. support). Usage: {usage}"
        )
    return name



def tags_in(text: str) -> tuple[str, ...]:
    """Each distinct #tag in `text`, lower-cased, in order of first use."""
    return tuple(dict.fromkeys(tag.lower() for tag in TAG.findall(text)))


# --- user-written text, made safe to repeat ---------------------------------------------------

# U+2060 WORD JOINER after the "@" keeps the word readable but stops every platform's
# broadcast-mention parser from seeing "@here", "@channel" or "@everyone".
_JOIN = "\u2060"
_SLACK_SPECIAL = re.compile(r"<!(here|channel|everyone|group)(?:\|[^>]*)?>", re.IGNORECASE)
_SLACK_SUBTEAM = re.compile(r"<!subteam\^[^>|]*(?:\|@?([^>]*))?>", re.IGNORECASE)
_SLACK_DATE = re.compile(r"<!date\^[^>|]*\|([^>]*)>")
_SLACK_OTHER = re.compile(r"<!([^>]*)>")
_PLAIN_BROADCAST = re.compile(r"(?<![\w.])@(here|channel|everyone|all)\b", re.IGNORECASE)
# Characters that do nothing a reader sees but can change what a terminal or a platform does:
# C0/C1 controls (terminal escapes), bidi overrides and isolates, invisible separators.
# (Zero-width joiners stay: emoji sequences and some scripts need them.)
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff]"
)


def neutralise_pings(text: str) -> str:
    """Turn every broadcast or group mention into inert text that still reads the same."""
    text = _SLACK_SPECIAL.sub(lambda m: f"@{_JOIN}{m.group(1).lower()}", text)
    text = _SLACK_SUBTEAM.sub(lambda m: f"@{_JOIN}{m.group(1) or 'group'}", text)
    text = _SLACK_DATE.sub(lambda m: m.group(1), text)
    text = _SLACK_OTHER.sub(lambda m: m.group(1), text)
    return _PLAIN_BROADCAST.sub(lambda m: f"@{_JOIN}{m.group(1)}", text)


def clean_user_text(text: str) -> str:
    """Drop control and invisible characters, then neutralise pings (in that order, so that
    removing one cannot make `@\x00here` a broadcast), and collapse runs of spaces."""
    text = neutralise_pings(_CONTROL.sub("", text))
    return re.sub(r"[ \t]+", " ", text).strip()


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
