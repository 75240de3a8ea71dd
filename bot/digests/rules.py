"""The rules of weekly digests as pure decisions: no I/O, no database.

Times are computed in the schedule's own IANA zone: when a digest fires, which period (and so
which single digest per team) a firing belongs to, the weeks it covers, whether a missed
firing is still sent, quiet hours, who may read a team's digest and what it may show.

Computed with zoneinfo rather than APScheduler's CronTrigger: on the night clocks go back,
CronTrigger 3.11 returns the repeated local time twice (e.g. 01:30 BST and 01:30 GMT), which
would make a weekly schedule fire twice; here each local date yields exactly one instant.
A local time that does not exist (the spring-forward gap) fires at the same instant the
old offset gives, i.e. one hour later on the wall clock, as cron implementations do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, Protocol, TypeVar
from zoneinfo import ZoneInfo

from bot.messages import Refused
from bot.ops.config import QuietHours
from bot.pulses.contract import RoundSummary

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
# A firing missed by longer than this (the bot was down) is skipped, not sent late.
MISSED_GRACE = timedelta(hours=12)


@dataclass(frozen=True)
class Window:
    """A digest's time frame: "this week" is [this_start, end), "last week" is
    [last_start, this_start); members not recognised in [quiet_since, end) are "quiet"."""

    end: datetime
    this_start: datetime
    last_start: datetime
    quiet_since: datetime
    zone: str


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


def following_fire(
    scheduled: datetime, now: datetime, weekday: str, clock_time: str, zone: ZoneInfo
) -> datetime:
    """The firing after the one at `scheduled`: never in the past, so a schedule that was
    down for weeks resumes at its next slot rather than catching up on every missed one."""
    return next_fire(max(now, scheduled), weekday, clock_time, zone)


Firing = Literal["send", "sent", "missed"]


def firing(scheduled: datetime, now: datetime, *, already_sent: bool) -> Firing:
    """What a due firing does: send its digest, or move on because this period's digest went
    out already (another process) or the firing is too late to be worth sending."""
    if already_sent:
        return "sent"
    if now - scheduled > MISSED_GRACE:
        return "missed"
    return "send"


def period_key(fired_at: datetime, zone: ZoneInfo) -> str:
    """The ISO week of a firing in the schedule's zone: at most one digest per team in it."""
    year, week, _ = fired_at.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def outbox_key(team_id: int, period: str) -> str:
    """The lead's DM for one team and period: queued once, however many processes fire."""
    return f"digest:{team_id}:{period}"


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


def week_zone(active_schedule_zone: str | None, person_zone: ZoneInfo) -> ZoneInfo:
    """The zone a /digest now counts its weeks in: the schedule's, so it shows the week the
    scheduled digest will; without a schedule, the lead's (or the asker's) own."""
    return ZoneInfo(active_schedule_zone) if active_schedule_zone else person_zone


# -- who may read a team's digest -------------------------------------------------------------


class Led(Protocol):
    name: str


T = TypeVar("T", bound=Led)


def check_may_read(team_name: str, *, is_admin: bool, is_lead: bool) -> None:
    """A team's digest is for its lead and for admins."""
    if not is_admin and not is_lead:
        raise Refused(
            f"Only {team_name}'s lead and admins can see its digest. For your own kudos, try "
            "/kudos stats."
        )


def team_for_now(led: Sequence[T], *, is_admin: bool) -> T:
    """The team a /digest now without a name means: the one the caller leads."""
    if len(led) == 1:
        return led[0]
    if len(led) > 1:
        names = ", ".join(team.name for team in led)
        raise Refused(f"You lead several teams ({names}). Say which: /digest now team:NAME")
    if is_admin:
        raise Refused("Say which team: /digest now team:NAME (see /team list).")
    raise Refused(
        "Digests are for team leads and admins, and you don't lead a team. For your own "
        "kudos, try /kudos stats."
    )


# -- what a digest shows ----------------------------------------------------------------------


def rounds_in_week(rounds: Sequence[RoundSummary], this_start: datetime) -> list[RoundSummary]:
    return [r for r in rounds if this_start <= r.scheduled_for]


def nothing_to_report(received: int, given: int, rounds_this_week: int) -> bool:
    """A week without kudos or pulse rounds gets a one-line "quiet week" digest."""
    return not (received or given or rounds_this_week)


def empty_week_key(team_id: int) -> str:
    """Where a team's choice to receive empty weeks' digests is stored."""
    return f"digest.empty-weeks:{team_id}"


def skips_week(
    received: int, given: int, rounds_this_week: int, quiet_members: int, *, skip_empty: bool
) -> bool:
    """A scheduled digest is not sent for an empty week — no kudos, no round and no quiet
    member (quiet members are what a lead most needs to see) — unless the team asked for it."""
    return skip_empty and nothing_to_report(received, given, rounds_this_week) and not quiet_members


def may_show_round(summary: RoundSummary, threshold: int) -> bool:
    """Aggregates only for rounds that met the anonymity threshold (checked here as well as
    by the pulses feature: the promise must not depend on one implementation)."""
    return (
        summary.shown
        and summary.responded >= threshold
        and summary.easy_mean is not None
        and summary.value_mean is not None
    )
