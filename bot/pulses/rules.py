"""The rules of pulses as pure decisions: no I/O, no database.

Who may run pulses, whether results may be shown (the anonymity threshold) and what they
are, which answers are taken, when a round opens, closes and reminds, who is reminded and
who reads the results, and the outbox keys that make each message go out once.
Calendar arithmetic (cron in a zone, durations, quiet hours) is in timing.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.lexicon import clean_user_text, typed_number
from bot.messages import Refused
from bot.ops.config import QuietHours
from bot.pulses import timing

ADMINS_ONLY = (
    "Only admins can {what}. Ask one of your workspace admins, or see /pulse help for what "
    "you can do."
)
CLOSED = "Thanks — but this pulse has closed, so answers are no longer taken."
FAVOURABLE = 4  # 4 and 5 are favourable answers
MAX_COMMENT = 1000

# -- who may do what --------------------------------------------------------------------------


def check_admin(is_admin: bool, what: str) -> None:
    """Scheduling, sending, listing and changing pulses is for admins."""
    if not is_admin:
        raise Refused(ADMINS_ONLY.format(what=what))


def may_read_results(is_admin: bool, round_team_id: int | None, led: Sequence[int]) -> bool:
    """Admins read every round; a lead reads the rounds asked of a team they lead."""
    return is_admin or (round_team_id is not None and round_team_id in led)


# -- results and the anonymity threshold ------------------------------------------------------


def results_shown(responded: int, min_responses: int) -> bool:
    """Aggregates only from `min_responses` answers up: with fewer, a mean or a comment could
    be traced to the few who answered."""
    return responded > 0 and responded >= min_responses


@dataclass(frozen=True)
class Quadrants:
    easy_and_valuable: int = 0
    easy_only: int = 0
    valuable_only: int = 0
    neither: int = 0


@dataclass(frozen=True)
class RoundResult:
    invited: int
    responded: int
    # False below the anonymity threshold: every aggregate below is then None / empty.
    shown: bool
    easy_mean: float | None = None
    value_mean: float | None = None
    easy_favourable: float | None = None
    value_favourable: float | None = None
    quadrants: Quadrants | None = None
    # In the random order closing stored them; empty when the visibility gate hides them.
    comments: list[str] = field(default_factory=list)
    # Why scores or comments are hidden, for the reader (bot/pulses/visibility.py's words).
    hidden_reason: str | None = None

    @property
    def response_rate(self) -> float:
        return self.responded / self.invited if self.invited else 0.0


Grid = list[list[int]]


def tally(ratings: Iterable[tuple[int, int]]) -> Grid:
    """Answers as a 5×5 count, `grid[easy-1][value-1]`: nothing of their order survives."""
    grid = [[0] * 5 for _ in range(5)]
    for easy, value in ratings:
        grid[easy - 1][value - 1] += 1
    return grid


def add(one: Grid | None, other: Grid) -> Grid:
    if not one:
        return other
    return [[a + b for a, b in zip(r1, r2, strict=True)] for r1, r2 in zip(one, other, strict=True)]


def from_tally(
    invited: int,
    grid: Grid | None,
    *,
    shown: bool,
    responded: int | None = None,
    comments: Sequence[str] = (),
    hidden_reason: str | None = None,
) -> RoundResult:
    """A closed round's results from its tally and the visibility gate's verdict: response
    rate, means, % favourable (4–5), the four quadrants and the comments (in the order given,
    which closing shuffled) — or only counts when hidden (a hidden round keeps no tally)."""
    cells = [(e + 1, v + 1, n) for e, row in enumerate(grid or []) for v, n in enumerate(row)]
    if grid:
        responded = sum(n for _, _, n in cells)
    responded = responded or 0
    if not shown or responded == 0:
        return RoundResult(
            invited=invited, responded=responded, shown=False, hidden_reason=hidden_reason
        )

    def count(test: Callable[[int, int], bool]) -> int:
        return sum(n for e, v, n in cells if test(e, v))

    return RoundResult(
        invited=invited,
        responded=responded,
        shown=True,
        easy_mean=sum(e * n for e, _, n in cells) / responded,
        value_mean=sum(v * n for _, v, n in cells) / responded,
        easy_favourable=count(lambda e, _: e >= FAVOURABLE) / responded,
        value_favourable=count(lambda _, v: v >= FAVOURABLE) / responded,
        quadrants=Quadrants(
            easy_and_valuable=count(lambda e, v: e >= FAVOURABLE and v >= FAVOURABLE),
            easy_only=count(lambda e, v: e >= FAVOURABLE > v),
            valuable_only=count(lambda e, v: v >= FAVOURABLE > e),
            neither=count(lambda e, v: e < FAVOURABLE and v < FAVOURABLE),
        ),
        comments=list(comments),
        hidden_reason=hidden_reason,
    )


# -- answers ----------------------------------------------------------------------------------


def rating_from_form(raw: object, name: str) -> int:
    """A rating as a form sends it (a number, or digits as text)."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    number = typed_number(raw.strip()) if isinstance(raw, str) else None
    if number is not None:
        return number
    raise Refused(f"Rate {name.upper()} from 1 to 5.", name)


def check_ratings(easy: object, value: object) -> None:
    for name, rating in (("easy", easy), ("value", value)):
        if not isinstance(rating, int) or not 1 <= rating <= 5:
            raise Refused(f"Rate {name.upper()} from 1 to 5.", name)


def check_comment(comment: str) -> str | None:
    """The comment as stored (made safe to repeat), None when there is none."""
    cleaned = clean_user_text(comment) or None
    if cleaned and len(cleaned) > MAX_COMMENT:
        raise Refused(
            f"Your comment is {len(cleaned):,} characters; the limit is {MAX_COMMENT:,}.",
            "comment",
        )
    return cleaned


def accepts_answers(closed: bool, closes_at: datetime, now: datetime) -> bool:
    """A round takes answers (and changed answers) until it closes, the closing instant not
    included — even if the scheduler has not closed it yet."""
    return not closed and now < closes_at


# -- schedules --------------------------------------------------------------------------------


def open_minutes(requested: int | None, default_hours: float) -> int:
    return requested or round(default_hours * 60)


def once_at(day: date, at: time, zone_name: str, now: datetime) -> datetime:
    """A one-off pulse's moment in its zone, refused unless it is still to come."""
    moment = datetime.combine(day, at, tzinfo=timing.zone(zone_name)).astimezone(now.tzinfo)
    if moment <= now:
        raise Refused(
            f"{day:%a %d %b %Y} {at:%H:%M} ({zone_name}) is in the past. "
            "Pick a date and time that is still to come."
        )
    return moment


def resume_at(
    cron: str | None, zone_name: str, paused_next: datetime | None, now: datetime
) -> datetime | None:
    """When a resumed schedule fires next; None if it has nothing left to fire (a one-off
    whose moment passed while it was paused)."""
    upcoming = timing.next_fire(cron, zone_name, now) if cron else paused_next
    return upcoming if upcoming is not None and upcoming >= now else None


# -- rounds: when they run, close and remind --------------------------------------------------


def firing(
    expected: datetime, cron: str | None, zone_name: str, minutes_open: int, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """(the firing to run now or None, the next firing after now).

    After downtime only the latest missed firing runs, and only while its round would still
    be open; a one-off has no next firing."""
    window = timedelta(minutes=minutes_open)
    if cron is None:
        return (expected if now < expected + window else None), None
    since = max(expected, now - window)
    latest = timing.latest_fire(cron, zone_name, since, now)
    if latest is not None and now >= latest + window:
        latest = None
    return latest, timing.next_fire(cron, zone_name, now)


@dataclass(frozen=True)
class RoundTimes:
    closes_at: datetime
    remind_at: datetime | None


def round_times(
    scheduled_for: datetime,
    minutes_open: int,
    now: datetime,
    *,
    reminder: bool,
    hours_before_close: float,
) -> RoundTimes:
    """When a round closes, and when it reminds (None: reminders off, or the moment has
    passed already — a round fired late does not remind straight away)."""
    closes_at = scheduled_for + timedelta(minutes=minutes_open)
    remind_at = closes_at - timedelta(hours=hours_before_close)
    return RoundTimes(closes_at, remind_at if reminder and remind_at > now else None)


def ask_at(now: datetime, zone_name: str | None, default_zone: str, quiet: QuietHours) -> datetime:
    """When a question reaches a person: now, or when their quiet hours end."""
    return timing.outside_quiet_hours(now, zone_name or default_zone, quiet)


def remind_at(
    now: datetime,
    zone_name: str | None,
    default_zone: str,
    quiet: QuietHours,
    closes_at: datetime,
) -> datetime | None:
    """When to remind someone who has not answered; None when their quiet hours last past
    the close (a reminder after close helps no one)."""
    moment = ask_at(now, zone_name, default_zone, quiet)
    return moment if moment < closes_at else None


def result_reader_ids(owner_id: int, lead_id: int | None) -> list[int]:
    """Who receives a closed round's results: the schedule's owner, and the lead of the team
    it asked (once, if they are the same person)."""
    return list(dict.fromkeys([owner_id] if lead_id is None else [owner_id, lead_id]))


# -- outbox keys: each message of a round goes out once ---------------------------------------


def round_prefix(round_id: int) -> str:
    return f"pulse:{round_id}:"


def ask_key(round_id: int, user_id: str) -> str:
    return f"{round_prefix(round_id)}ask:{user_id}"


def remind_key(round_id: int, user_id: str) -> str:
    return f"{round_prefix(round_id)}remind:{user_id}"


def results_key(round_id: int, user_id: str) -> str:
    return f"{round_prefix(round_id)}results:{user_id}"
