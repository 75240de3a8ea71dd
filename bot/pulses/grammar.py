"""`/pulse …` and `/answer …` text → pulse commands, or a ParseError that says what to type."""

from __future__ import annotations

import re
from datetime import date

from bot.lexicon import CHANNEL, MENTION, ParseError, typed_number
from bot.pulses.commands import (
    AnswerPulse,
    Audience,
    Cadence,
    CancelRound,
    ChangePulse,
    ChannelAudience,
    ClosePulse,
    Cron,
    ListPulses,
    Once,
    PulseCommand,
    PulseHelp,
    PulseNow,
    PulseResults,
    SchedulePulse,
    TeamAudience,
    UsersAudience,
    Weekly,
)
from bot.pulses.timing import WEEKDAYS, ScheduleError, parse_clock, parse_duration

SCHEDULE_USAGE = (
    '/pulse schedule "SUBJECT" to #channel|team:NAME|@people every mon[,thu] at HH:MM '
    '[tz ZONE] [open 48h]   (or cron "0 10 * * MON", or on YYYY-MM-DD at HH:MM)'
)
NOW_USAGE = '/pulse now "SUBJECT" to #channel|team:NAME|@people [open 48h]'
ANSWER_USAGE = '/answer ROUND easy=1-5 value=1-5 ["comment"]'
MAX_SUBJECT = 200

_TOKEN = re.compile(r'"[^"]*"|“[^”]*”|\'[^\']*\'|\S+')
_KEYWORDS = {"every", "cron", "on", "at", "tz", "open"}
_FULL_DAYS = {
    full: full[:3]
    for full in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}
_DAY_ALIASES = {
    "day": WEEKDAYS,
    "days": WEEKDAYS,
    "daily": WEEKDAYS,
    "weekday": WEEKDAYS[:5],
    "weekdays": WEEKDAYS[:5],
}


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _unquote(token: str) -> str | None:
    if len(token) >= 2 and (token[0], token[-1]) in {('"', '"'), ("“", "”"), ("'", "'")}:
        return token[1:-1]
    return None


def parse_pulse(args: str) -> PulseCommand:
    words = _tokens(args)
    if not words or words[0].lower() in {"help", "?"}:
        return PulseHelp()
    keyword, rest = words[0].lower(), words[1:]
    try:
        if keyword == "schedule":
            return _parse_schedule(rest)
        if keyword == "now":
            return _parse_now(rest)
        if keyword == "list":
            if rest:
                raise ParseError("'/pulse list' takes nothing after it.")
            return ListPulses()
        if keyword == "close":
            return ClosePulse(_round_id(rest, "/pulse close N"))
        if keyword == "cancel" and rest and rest[0].lower() in {"pulse", "round"}:
            return CancelRound(_round_id(rest[1:], "/pulse cancel pulse N"))
        if keyword in {"pause", "resume", "cancel"} and rest and rest[0].lower() == "schedule":
            rest = rest[1:]  # "cancel schedule 3" says plainly what "cancel 3" means
        if keyword in {"pause", "resume", "cancel"}:
            return ChangePulse(keyword, _schedule_id(rest, f"/pulse {keyword} ID"))  # type: ignore[arg-type]
        if keyword == "results":
            if not rest or (len(rest) == 1 and rest[0].lower() == "latest"):
                return PulseResults()
            return PulseResults(_schedule_id(rest, "/pulse results ID|latest"))
    except ScheduleError as error:
        raise ParseError(str(error)) from None
    raise ParseError(
        f"I don't know '/pulse {words[0]}'. Try /pulse schedule, now, list, pause, resume, "
        "cancel, close, results or help."
    )


def _schedule_id(rest: list[str], usage: str) -> int:
    number = typed_number(rest[0].lstrip("#"), 1) if len(rest) == 1 else None
    if number is None:
        raise ParseError(f"Usage: {usage}   (the number from /pulse list)")
    return number


def _round_id(rest: list[str], usage: str) -> int:
    if len(rest) != 1 or not rest[0].lstrip("#").isdigit():
        raise ParseError(f"Usage: {usage}   (an open pulse's number from /pulse list)")
    return int(rest[0].lstrip("#"))


def _subject_and_audience(rest: list[str], usage: str) -> tuple[str, Audience, list[str]]:
    subject = _unquote(rest[0]) if rest else None
    if subject is None:
        raise ParseError(f'Put the subject in quotes, e.g. "the new expense tool". Usage: {usage}')
    subject = " ".join(subject.split())
    if not subject:
        raise ParseError("The subject is empty — what should people rate?")
    if len(subject) > MAX_SUBJECT:
        raise ParseError(f"The subject is {len(subject)} characters; the limit is {MAX_SUBJECT}.")
    if len(rest) < 2 or rest[1].lower() != "to":
        raise ParseError(
            f"Say who to ask after the subject: to #channel, team:NAME or @people. Usage: {usage}"
        )
    position = 2
    pieces: list[str] = []
    while position < len(rest) and rest[position].lower() not in _KEYWORDS:
        pieces.append(rest[position])
        position += 1
    return subject, _audience(pieces), rest[position:]


def _audience(pieces: list[str]) -> Audience:
    text = " ".join(pieces)
    if not text.strip():
        raise ParseError("Who should be asked? Add an audience: to #channel, team:NAME or @people.")
    if len(pieces) == 1 and pieces[0].lower().startswith("team:"):
        name = pieces[0][5:].strip().lower()
        if not name:
            raise ParseError("Name the team, e.g. team:support.")
        return TeamAudience(name)
    if len(pieces) == 1 and (channel := CHANNEL.fullmatch(pieces[0])):
        return ChannelAudience(channel.group(1))
    if len(pieces) == 1 and re.fullmatch(r"#[\w-]+", pieces[0]):
        return ChannelAudience(pieces[0][1:].lower())
    users = MENTION.findall(text)
    leftover = re.sub(r"\s+|,|\band\b|&", "", MENTION.sub("", text))
    if not users or leftover:
        raise ParseError(
            f"I can't read the audience '{text}'. Use one #channel, one team:NAME, or @people."
        )
    return UsersAudience(tuple(dict.fromkeys(users)))


def _parse_schedule(rest: list[str]) -> SchedulePulse:
    subject, audience, options = _subject_and_audience(rest, SCHEDULE_USAGE)
    cadence: Cadence | None = None
    timezone: str | None = None
    open_minutes: int | None = None
    at = None
    day: date | None = None
    weekdays: tuple[str, ...] | None = None
    cron: str | None = None
    index = 0
    while index < len(options):
        word = options[index].lower()
        value = options[index + 1] if index + 1 < len(options) else None
        if value is None:
            raise ParseError(f"'{options[index]}' needs a value after it. Usage: {SCHEDULE_USAGE}")
        if word == "every":
            days: list[str] = []
            index += 1
            while index < len(options) and options[index].lower() not in _KEYWORDS:
                days.append(options[index])
                index += 1
            weekdays = _weekdays(" ".join(days))
            continue
        if word == "cron":
            cron = _unquote(value) or value
        elif word == "on":
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise ParseError(f"'{value}' is not a date. Use YYYY-MM-DD.") from None
        elif word == "at":
            at = parse_clock(value)
        elif word == "tz":
            timezone = value
        elif word == "open":
            open_minutes = parse_duration(value)
        else:
            raise ParseError(f"I don't understand '{options[index]}'. Usage: {SCHEDULE_USAGE}")
        index += 2
    chosen = [name for name, given in (("every", weekdays), ("cron", cron), ("on", day)) if given]
    if len(chosen) != 1:
        raise ParseError(
            'Say when, exactly one of: every mon at 10:00, cron "0 10 * * MON", '
            f"or on YYYY-MM-DD at 10:00. Usage: {SCHEDULE_USAGE}"
        )
    if cron is not None:
        if at is not None:
            raise ParseError("With cron, the time is part of the expression; drop 'at'.")
        cadence = Cron(" ".join(cron.split()))
    else:
        if at is None:
            raise ParseError("Add the time of day, e.g. at 10:00.")
        cadence = Weekly(weekdays, at) if weekdays else Once(day, at)  # type: ignore[arg-type]
    return SchedulePulse(subject, audience, cadence, timezone, open_minutes)


def _weekdays(text: str) -> tuple[str, ...]:
    names = [part for part in re.split(r"[\s,]+|\band\b", text.lower()) if part]
    if len(names) == 1 and names[0] in _DAY_ALIASES:
        return _DAY_ALIASES[names[0]]
    days: list[str] = []
    for name in names:
        short = _FULL_DAYS.get(name.removesuffix("s"), name)
        if short not in WEEKDAYS:
            raise ParseError(
                f"'{name}' is not a day of the week. Use mon, tue, wed, thu, fri, sat, sun "
                "(or 'day' / 'weekday')."
            )
        if short not in days:
            days.append(short)
    if not days:
        raise ParseError("Name the day(s) after 'every', e.g. every mon,thu.")
    return tuple(sorted(days, key=WEEKDAYS.index))


def _parse_now(rest: list[str]) -> PulseNow:
    subject, audience, options = _subject_and_audience(rest, NOW_USAGE)
    open_minutes = None
    if options:
        if len(options) != 2 or options[0].lower() != "open":
            raise ParseError(f"Usage: {NOW_USAGE}")
        open_minutes = parse_duration(options[1])
    return PulseNow(subject, audience, open_minutes)


def parse_answer(args: str) -> PulseCommand:
    words = _tokens(args)
    round_id = typed_number(words[0].lstrip("#"), 1) if words else None
    if round_id is None:
        raise ParseError(f"Usage: {ANSWER_USAGE}")
    ratings: dict[str, int] = {}
    comment: list[str] = []
    for word in words[1:]:
        name, equals, number = word.partition("=")
        if equals and name.lower() in {"easy", "value"} and not comment:
            rating = typed_number(number, 1, 5)
            if rating is None:
                raise ParseError(f"Rate {name.upper()} with a whole number from 1 to 5.")
            ratings[name.lower()] = rating
        else:
            comment.append(_unquote(word) if _unquote(word) is not None else word)  # type: ignore[arg-type]
    missing = [name.upper() for name in ("easy", "value") if name not in ratings]
    if missing:
        raise ParseError(f"Rate {' and '.join(missing)} from 1 to 5. Usage: {ANSWER_USAGE}")
    return AnswerPulse(round_id, ratings["easy"], ratings["value"], " ".join(comment).strip())


# The words this feature answers; install() registers them with the core.
PARSERS = {"pulse": parse_pulse, "answer": parse_answer}
