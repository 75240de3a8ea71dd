"""When schedules fire: crontab → APScheduler 3.x CronTrigger in the schedule's own IANA zone.

APScheduler 3.x numbers days of the week from Monday = 0, while crontab uses Sunday = 0 (and
7); every day-of-week field is therefore expanded to explicit day *names* before it reaches
APScheduler, so no number is ever interpreted the wrong way round.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from bot.lexicon import typed_number
from bot.ops.config import QuietHours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# crontab day numbers: 0 and 7 are Sunday, 1 is Monday.
_CRON_DAY_NAMES = {0: "sun", 1: "mon", 2: "tue", 3: "wed", 4: "thu", 5: "fri", 6: "sat", 7: "sun"}
_NAME_TO_CRON = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*(d|h|m)", re.IGNORECASE)
MAX_OPEN = timedelta(days=30)


class ScheduleError(ValueError):
    """A schedule that cannot work; the message says why, for the person who typed it."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(
            f"I don't know the time zone '{name}'. Use an IANA name such as Europe/Berlin, "
            "America/New_York or UTC."
        ) from None


def parse_duration(text: str) -> int:
    """'48h', '2d', '90m', '1d12h' → minutes."""
    cleaned = text.strip().lower()
    pieces = _DURATION.findall(cleaned)
    if not pieces or _DURATION.sub("", cleaned).strip():
        raise ScheduleError(f"'{text}' is not a duration. Use e.g. 48h, 2d or 90m.")
    minutes = sum(float(n) * {"d": 1440, "h": 60, "m": 1}[unit.lower()] for n, unit in pieces)
    if minutes < 1:
        raise ScheduleError("A pulse has to stay open for at least a minute.")
    if minutes > MAX_OPEN.total_seconds() / 60:
        raise ScheduleError("A pulse can stay open for at most 30 days.")
    return round(minutes)


def parse_clock(text: str) -> time:
    match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", text.strip())
    if match is None:
        raise ScheduleError(f"'{text}' is not a time of day. Use 24-hour HH:MM, e.g. 09:30.")
    return time(int(match.group(1)), int(match.group(2)))


def weekly_cron(weekdays: tuple[str, ...], at: time) -> str:
    return f"{at.minute} {at.hour} * * {','.join(weekdays)}"


def _day_number(token: str) -> int:
    token = token.lower()
    if token[:3] in _NAME_TO_CRON and token.isalpha():
        return _NAME_TO_CRON[token[:3]]
    number = typed_number(token, 0, 7)
    if number is not None:
        return number
    raise ScheduleError(f"'{token}' is not a day of the week (use 0-7 or mon…sun).")


def cron_days_to_names(field: str) -> str:
    """Expand a crontab day-of-week field ('1-5', 'MON,WED', '*/2', '0') to day names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = typed_number(step_text, 1)
        if step_text and step is None:
            raise ScheduleError(f"'{part}' has a step that is not a positive number.")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _day_number(start), _day_number(end)
            if last < first:
                raise ScheduleError(f"The day range '{base}' runs backwards.")
        else:
            first = last = _day_number(base)
            if step:
                last = 6
        days.update(range(first, last + 1, step or 1))
    ordered = sorted({_CRON_DAY_NAMES[day] for day in days}, key=WEEKDAYS.index)
    return ",".join(ordered)


def trigger(cron: str, timezone: str) -> CronTrigger:
    fields = cron.split()
    if len(fields) != 5:
        raise ScheduleError(
            f"'{cron}' is not a cron expression: it needs 5 fields "
            '(minute hour day-of-month month day-of-week), e.g. "0 10 * * MON".'
        )
    minute, hour, day, month, day_of_week = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=cron_days_to_names(day_of_week),
            timezone=zone(timezone),
        )
    except ScheduleError:
        raise
    except ValueError as error:
        raise ScheduleError(f"'{cron}' is not a valid cron expression: {error}.") from None


def next_fire(cron: str, timezone: str, after: datetime) -> datetime | None:
    """The first firing strictly after `after`, as aware UTC (None if it never fires again).

    When clocks go back, a wall-clock time such as 02:30 happens twice; a schedule fires at
    each wall-clock time once, so a candidate that is not later *on the local clock* than
    `after` is skipped."""
    schedule_zone = zone(timezone)
    cron_trigger = trigger(cron, timezone)
    wall = after.astimezone(schedule_zone).replace(tzinfo=None)
    moment = after.astimezone(UTC)
    for _ in range(1000):
        # Add in UTC: adding to a local time would lose which of two repeated hours it is.
        start = (moment + timedelta(microseconds=1)).astimezone(schedule_zone)
        upcoming = cron_trigger.get_next_fire_time(None, start)
        if upcoming is None:
            return None
        if upcoming.replace(tzinfo=None) > wall:
            return upcoming.astimezone(UTC)
        moment = upcoming.astimezone(UTC)
    return None


def latest_fire(cron: str, timezone: str, since: datetime, now: datetime) -> datetime | None:
    """The last firing in [since, now] — the one a process returning from downtime runs."""
    latest = None
    moment: datetime | None = since - timedelta(microseconds=1)
    while moment is not None:
        moment = next_fire(cron, timezone, moment)
        if moment is None or moment > now:
            break
        latest = moment
    return latest


def local_time(moment: datetime, timezone: str) -> str:
    """'Mon 23 Nov 10:00 (Europe/Berlin)'"""
    local = moment.astimezone(zone(timezone))
    return f"{local:%a %d %b %H:%M} ({timezone})"


def outside_quiet_hours(moment: datetime, timezone: str, quiet: QuietHours) -> datetime:
    """`moment`, or the end of the person's quiet hours if it falls inside them."""
    if not quiet.enabled:
        return moment
    try:
        local = moment.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment.astimezone(UTC)
    start, end = parse_clock(quiet.start), parse_clock(quiet.end)
    now = local.time()
    inside = (start <= now < end) if start < end else (now >= start or now < end)
    if not inside:
        return moment
    wake = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if wake <= local:
        wake = (local + timedelta(days=1)).replace(hour=end.hour, minute=end.minute)
    return wake.astimezone(UTC)
