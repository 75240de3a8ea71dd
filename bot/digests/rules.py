"""Weekly digest times in the schedule's own IANA zone, and the period each firing belongs to.

Computed with zoneinfo rather than APScheduler's CronTrigger: on the night clocks go back,
CronTrigger 3.11 returns the repeated local time twice (e.g. 01:30 BST and 01:30 GMT), which
would make a weekly schedule fire twice; here each local date yields exactly one instant.
A local time that does not exist (the spring-forward gap) fires at the same instant the
old offset gives, i.e. one hour later on the wall clock, as cron implementations do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.ops.config import QuietHours
from storage.repositories.digests import Window

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}


def local_instant(day: date, clock_time: str, zone: ZoneInfo) -> datetime:
    """`clock_time` (HH:MM) on `day` in `zone` as aware UTC; fold=0 picks the first of a
    repeated hour and the pre-gap offset for a skipped one."""
    hour, minute = (int(part) for part in clock_time.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def next_fire(after: datetime, weekday: str, clock_time: str, zone: ZoneInfo) -> datetime:
    """The first firing strictly after `after`."""
    target = DAYS.index(weekday)
    day = after.astimezone(zone).date() - timedelta(days=1)  # a firing late "yesterday" in UTC
    day += timedelta(days=(target - day.weekday()) % 7)
    while (instant := local_instant(day, clock_time, zone)) <= after:
        day += timedelta(days=7)
    return instant


def period_key(fired_at: datetime, zone: ZoneInfo) -> str:
    """The ISO week of a firing in the schedule's zone: at most one digest per team in it."""
    year, week, _ = fired_at.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def window_ending(end: datetime, zone: ZoneInfo, quiet_days: int) -> Window:
    """The 7 local days up to `end`, the 7 before them, and the quiet-member window.

    Days are counted on the local calendar, so a week spanning a DST change is still
    "same wall-clock time, seven days earlier" (167 or 169 hours)."""

    def days_before(days: int) -> datetime:
        local = end.astimezone(zone).replace(tzinfo=None) - timedelta(days=days)
        return local.replace(tzinfo=zone).astimezone(UTC)

    return Window(
        end=end.astimezone(UTC),
        this_start=days_before(7),
        last_start=days_before(14),
        quiet_since=days_before(quiet_days),
        zone=zone.key,
    )


def after_quiet_hours(moment: datetime, zone: ZoneInfo, quiet: QuietHours) -> datetime:
    """`moment`, or the end of the recipient's quiet window if it falls inside one."""
    if not quiet.enabled:
        return moment
    local = moment.astimezone(zone)
    start, end = (time.fromisoformat(value) for value in (quiet.start, quiet.end))
    now = local.time().replace(tzinfo=None)
    wraps = start > end  # e.g. 20:00 → 08:00 crosses midnight
    inside = (now >= start or now < end) if wraps else (start <= now < end)
    if not inside:
        return moment
    day = local.date() + timedelta(days=1) if wraps and now >= start else local.date()
    return local_instant(day, quiet.end, zone)
