"""`/digest …` text → digest commands (see bot/digests.py)."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.digests.commands import (
    CancelDigest,
    DigestCommand,
    DigestHelp,
    DigestNow,
    EmptyWeeks,
    ListDigests,
    ScheduleDigest,
)
from bot.lexicon import ParseError, team_name, typed_number

SCHEDULE_USAGE = "/digest schedule team:NAME every WEEKDAY at HH:MM [tz ZONE]"
# Our own names → the three-letter day; mapped explicitly, never by number (cron and
# APScheduler disagree on whether 0 is Sunday or Monday).
WEEKDAYS: dict[str, str] = {
    **{day: day for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    "monday": "mon",
    "tues": "tue",
    "tuesday": "tue",
    "wednesday": "wed",
    "thur": "thu",
    "thurs": "thu",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


def parse_digest(args: str) -> DigestCommand:
    words = args.split()
    if not words or words[0].lower() in {"help", "?"}:
        return DigestHelp()
    keyword, rest = words[0].lower(), words[1:]
    if keyword == "schedule":
        return _parse_schedule(rest)
    if keyword == "now":
        if len(rest) > 1:
            raise ParseError("Usage: /digest now [team:NAME]")
        return DigestNow(team_name(rest[0], "/digest now [team:NAME]") if rest else None)
    if keyword == "list":
        if rest:
            raise ParseError("'/digest list' takes nothing after it.")
        return ListDigests()
    if keyword == "cancel":
        number = typed_number(rest[0].lstrip("#"), 1) if len(rest) == 1 else None
        if number is None:
            raise ParseError("Usage: /digest cancel ID   (the number /digest list shows)")
        return CancelDigest(number)
    if keyword == "empty-weeks":
        usage = "Usage: /digest empty-weeks send|skip [team:NAME]"
        if not 1 <= len(rest) <= 2 or rest[0].lower() not in {"send", "skip"}:
            raise ParseError(usage)
        team = team_name(rest[1], usage) if len(rest) == 2 else None
        return EmptyWeeks(send=rest[0].lower() == "send", team=team)
    raise ParseError(
        f"I don't know '/digest {keyword}'. Try /digest schedule, now, list, cancel, "
        "empty-weeks or help."
    )


def _parse_schedule(rest: list[str]) -> ScheduleDigest:
    usage = f"Usage: {SCHEDULE_USAGE}"
    if not rest:
        raise ParseError(usage)
    team = team_name(rest[0], usage)
    weekday = time = zone = None
    position = 1
    while position < len(rest):
        word = rest[position].lower()
        value = rest[position + 1] if position + 1 < len(rest) else None
        if value is None or word not in {"every", "at", "tz"}:
            raise ParseError(usage)
        if word == "every":
            weekday = WEEKDAYS.get(value.lower())
            if weekday is None:
                raise ParseError(
                    f"'{value}' is not a weekday; use mon, tue, wed, thu, fri, sat or sun."
                )
        elif word == "at":
            match = _TIME.match(value)
            if match is None:
                raise ParseError(f"'{value}' is not a time of day; use 24-hour HH:MM, e.g. 16:00.")
            time = f"{int(match.group(1)):02d}:{match.group(2)}"
        else:
            zone = _zone_name(value)
        position += 2
    return ScheduleDigest(team=team, weekday=weekday, time=time, timezone=zone)


def _zone_name(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParseError(
            f"'{value}' is not a time zone I know; use an IANA name like Europe/London."
        ) from None
    return value


# The words this feature answers; install() registers them with the core.
PARSERS = {"digest": parse_digest}
