"""The rules of weekly digests, decided without a database (bot/digests/rules.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.digests import rules
from bot.messages import Refused
from bot.ops.config import QuietHours
from bot.pulses.contract import RoundSummary

# Enough cases to find a wrong boundary, few enough to keep these tests fast; no deadline: the
# first use of a time zone reads its file, which is slow on a busy machine.
QUICK = settings(max_examples=60, deadline=None)

LONDON = ZoneInfo("Europe/London")
FRIDAY_4PM = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
# Zones with daylight saving on both hemispheres, a half-hour change and none at all.
DST_ZONES = st.sampled_from(
    [
        "Europe/London",
        "Europe/Berlin",
        "America/New_York",
        "America/Santiago",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Pacific/Auckland",
        "Asia/Kolkata",
        "UTC",
    ]
).map(ZoneInfo)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
clock_times = st.builds(
    lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30])
)


@dataclass
class Group:
    name: str


def summary(responded: int, *, shown: bool = True, mean: float | None = 4.0) -> RoundSummary:
    return RoundSummary(
        round_id=1,
        schedule_id=1,
        subject="the new expense tool",
        scheduled_for=FRIDAY_4PM,
        closes_at=FRIDAY_4PM + timedelta(hours=48),
        closed=True,
        invited=10,
        responded=responded,
        shown=shown,
        easy_mean=mean,
        value_mean=mean,
    )


def refused(call: object) -> str:
    assert callable(call)
    with pytest.raises(Refused) as raised:
        call()
    return raised.value.message


# -- when digests go out ----------------------------------------------------------------------


@QUICK
@given(start=instants, zone=DST_ZONES, weekday=st.sampled_from(rules.DAYS), at=clock_times)
def test_a_weekly_schedule_sends_one_digest_in_every_local_week(
    start: datetime, zone: ZoneInfo, weekday: str, at: str
) -> None:
    """Consecutive firings land in consecutive ISO weeks of the schedule's zone, on its
    weekday: never two digests in one week (clocks going back), never a week skipped."""
    first = rules.next_fire(start, weekday, at, zone)
    second = rules.next_fire(first, weekday, at, zone)
    assert start < first < second
    one, two = first.astimezone(zone), second.astimezone(zone)
    assert rules.DAYS[one.weekday()] == weekday == rules.DAYS[two.weekday()]
    assert (two.date() - one.date()).days == 7
    assert rules.period_key(first, zone) != rules.period_key(second, zone)


@QUICK
@given(scheduled=instants, late=st.timedeltas(timedelta(0), timedelta(days=60)), zone=DST_ZONES)
def test_after_downtime_the_next_digest_is_never_in_the_past(
    scheduled: datetime, late: timedelta, zone: ZoneInfo
) -> None:
    now = scheduled + late
    following = rules.following_fire(scheduled, now, "fri", "16:00", zone)
    assert following > now
    assert following - now <= timedelta(days=7, hours=1)


def test_a_due_firing_is_sent_unless_already_sent_or_too_late() -> None:
    assert rules.firing(FRIDAY_4PM, FRIDAY_4PM, already_sent=False) == "send"
    assert rules.firing(FRIDAY_4PM, FRIDAY_4PM + timedelta(hours=12), already_sent=False) == "send"
    late = FRIDAY_4PM + timedelta(hours=12, seconds=1)
    assert rules.firing(FRIDAY_4PM, late, already_sent=False) == "missed"
    # Another process sent it: that counts, however late it is now.
    assert rules.firing(FRIDAY_4PM, late, already_sent=True) == "sent"
    assert rules.firing(FRIDAY_4PM, FRIDAY_4PM, already_sent=True) == "sent"


def test_one_outbox_row_per_team_and_period() -> None:
    assert rules.outbox_key(7, "2026-W47") == "digest:7:2026-W47"


@QUICK
@given(end=instants, zone=DST_ZONES)
def test_this_week_and_last_week_are_seven_local_days_each(end: datetime, zone: ZoneInfo) -> None:
    window = rules.window_ending(end, zone, 30)
    assert window.last_start < window.this_start < window.end <= end
    assert window.quiet_since < window.last_start
    local_end = end.astimezone(zone)
    for start, days in ((window.this_start, 7), (window.last_start, 14)):
        local = start.astimezone(zone)
        assert (local_end.date() - local.date()).days == days
        # The same wall-clock time — or just after it, if clocks skipped it that day.
        ahead = datetime.combine(date.min, local.time()) - datetime.combine(
            date.min, local_end.time()
        )
        assert timedelta(0) <= ahead <= timedelta(hours=1)


def test_quiet_hours_hold_a_digest_until_the_morning() -> None:
    quiet = QuietHours(start="20:00", end="08:00", enabled=True)
    evening = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 21:00 in London
    assert rules.after_quiet_hours(evening, LONDON, quiet) == datetime(
        2026, 11, 21, 8, 0, tzinfo=UTC
    )
    early = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    assert rules.after_quiet_hours(early, LONDON, quiet) == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert rules.after_quiet_hours(FRIDAY_4PM, LONDON, quiet) == FRIDAY_4PM
    off = QuietHours(start="20:00", end="08:00", enabled=False)
    assert rules.after_quiet_hours(evening, LONDON, off) == evening


def test_digest_now_counts_weeks_like_the_schedule_does() -> None:
    assert rules.week_zone("Asia/Tokyo", LONDON) == ZoneInfo("Asia/Tokyo")
    assert rules.week_zone(None, LONDON) == LONDON


# -- who may read a team's digest -------------------------------------------------------------


def test_a_team_digest_is_for_its_lead_and_admins() -> None:
    rules.check_may_read("support", is_admin=False, is_lead=True)
    rules.check_may_read("support", is_admin=True, is_lead=False)
    assert refused(lambda: rules.check_may_read("support", is_admin=False, is_lead=False)) == (
        "Only support's lead and admins can see its digest. For your own kudos, try /kudos stats."
    )


def test_a_bare_digest_now_means_the_one_team_you_lead() -> None:
    support, ops = Group("support"), Group("ops")
    assert rules.team_for_now([support], is_admin=False) is support
    assert refused(lambda: rules.team_for_now([support, ops], is_admin=True)) == (
        "You lead several teams (support, ops). Say which: /digest now team:NAME"
    )
    assert refused(lambda: rules.team_for_now([], is_admin=True)) == (
        "Say which team: /digest now team:NAME (see /team list)."
    )
    assert refused(lambda: rules.team_for_now([], is_admin=False)).startswith(
        "Digests are for team leads and admins, and you don't lead a team."
    )


# -- what a digest shows ----------------------------------------------------------------------


def test_a_week_without_kudos_or_rounds_is_a_quiet_week() -> None:
    assert rules.nothing_to_report(0, 0, 0)
    assert not rules.nothing_to_report(1, 0, 0)
    assert not rules.nothing_to_report(0, 2, 0)
    assert not rules.nothing_to_report(0, 0, 1)


def test_rounds_from_the_first_moment_of_the_week_count_as_this_week() -> None:
    this_start = FRIDAY_4PM - timedelta(days=7)
    at_start = replace(summary(5), scheduled_for=this_start)
    before = replace(summary(5), scheduled_for=this_start - timedelta(microseconds=1))
    assert rules.rounds_in_week([before, at_start], this_start) == [at_start]


@QUICK
@given(threshold=st.integers(3, 30), responded=st.integers(0, 40))
def test_a_round_is_shown_only_at_the_anonymity_threshold_and_above(
    threshold: int, responded: int
) -> None:
    shown = rules.may_show_round(summary(responded), threshold)
    assert shown == (responded >= threshold)
    if shown:  # one more answer never hides it again
        assert rules.may_show_round(summary(responded + 1), threshold)


def test_a_round_the_pulses_feature_hid_stays_hidden() -> None:
    assert not rules.may_show_round(summary(9, shown=False), 5)
    assert not rules.may_show_round(summary(9, mean=None), 5)
