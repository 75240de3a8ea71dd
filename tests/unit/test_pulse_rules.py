"""The rules of pulses, decided without a database (bot/pulses/rules.py)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messages import Refused
from bot.ops.config import QuietHours
from bot.pulses import rules

# Enough cases to find a wrong boundary, few enough to keep these tests fast; no deadline: the
# first use of a time zone reads its file, which is slow on a busy machine.
QUICK = settings(max_examples=60, deadline=None)

MONDAY_10 = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
QUIET = QuietHours(start="20:00", end="08:00", enabled=True)
ratings = st.integers(1, 5)
comments = st.none() | st.sampled_from(["", "slow to load", "saves me an hour", "meh"])
answer = st.tuples(ratings, ratings, comments)


def refused(call: object) -> Refused:
    assert callable(call)
    with pytest.raises(Refused) as raised:
        call()
    return raised.value


# -- results and the anonymity threshold ------------------------------------------------------


@QUICK
@given(threshold=st.integers(3, 50), responded=st.integers(0, 60))
def test_results_are_shown_from_the_threshold_up_and_never_hidden_again(
    threshold: int, responded: int
) -> None:
    shown = rules.results_shown(responded, threshold)
    assert shown == (responded >= threshold)
    if shown:
        assert rules.results_shown(responded + 1, threshold)
        assert not rules.results_shown(responded, threshold + responded)  # a stricter bar


@QUICK
@given(answers=st.lists(answer, max_size=12), threshold=st.integers(3, 10))
def test_below_the_threshold_only_the_counts_are_told(
    answers: list[tuple[int, int, str | None]], threshold: int
) -> None:
    result = _closed(40, answers, threshold)
    assert result.responded == len(answers) and result.invited == 40
    if len(answers) < threshold:
        assert not result.shown
        assert result.easy_mean is None and result.value_mean is None
        assert result.easy_favourable is None and result.quadrants is None
        assert result.comments == []


@QUICK
@given(answers=st.lists(answer, min_size=3, max_size=20), seed=st.randoms())
def test_shown_results_do_not_depend_on_who_answered_first(
    answers: list[tuple[int, int, str | None]], seed: random.Random
) -> None:
    result = _closed(40, answers, 3)
    shuffled = list(answers)
    seed.shuffle(shuffled)
    assert _closed(40, shuffled, 3).quadrants == result.quadrants
    assert _closed(40, shuffled, 3).easy_mean == result.easy_mean
    assert result.quadrants is not None
    quadrants = result.quadrants
    total = (
        quadrants.easy_and_valuable
        + quadrants.easy_only
        + quadrants.valuable_only
        + quadrants.neither
    )
    assert total == len(answers)
    assert 1 <= (result.easy_mean or 0) <= 5 and 1 <= (result.value_mean or 0) <= 5
    assert 0 <= (result.easy_favourable or 0) <= 1


def test_four_and_five_are_favourable() -> None:
    result = _closed(6, [(5, 3, None), (4, 4, "good"), (3, 5, None), (2, 1, "meh")], 3)
    assert result.easy_favourable == 0.5 and result.value_favourable == 0.5
    assert result.quadrants == rules.Quadrants(
        easy_and_valuable=1, easy_only=1, valuable_only=1, neither=1
    )
    assert result.comments == ["good", "meh"]
    assert result.response_rate == 4 / 6


def _closed(
    invited: int, answers: list[tuple[int, int, str | None]], threshold: int
) -> rules.RoundResult:
    """What closing a round with these answers shows, when no other round interferes."""
    return rules.from_tally(
        invited,
        rules.tally((easy, value) for easy, value, _ in answers),
        shown=rules.results_shown(len(answers), threshold),
        responded=len(answers),
        comments=[comment for _, _, comment in answers if comment],
    )


# -- answers ----------------------------------------------------------------------------------


def test_ratings_run_from_one_to_five() -> None:
    rules.check_ratings(1, 5)
    assert refused(lambda: rules.check_ratings(0, 3)).message == "Rate EASY from 1 to 5."
    too_high = refused(lambda: rules.check_ratings(3, 6))
    assert (too_high.message, too_high.field) == ("Rate VALUE from 1 to 5.", "value")


def test_a_form_rating_may_arrive_as_text() -> None:
    assert rules.rating_from_form(" 4 ", "easy") == 4
    assert rules.rating_from_form(2, "value") == 2
    assert refused(lambda: rules.rating_from_form("four", "easy")).field == "easy"
    assert refused(lambda: rules.rating_from_form(True, "value")).field == "value"
    assert refused(lambda: rules.rating_from_form(None, "easy")).field == "easy"


def test_a_comment_is_optional_made_safe_and_at_most_a_thousand_characters() -> None:
    assert rules.check_comment("   ") is None
    assert rules.check_comment("ok <!channel>") == "ok @\u2060channel"
    assert rules.check_comment("x" * 1000) == "x" * 1000
    too_long = refused(lambda: rules.check_comment("x" * 1001))
    assert too_long.message == "Your comment is 1,001 characters; the limit is 1,000."
    assert too_long.field == "comment"


def test_answers_are_taken_until_the_round_closes() -> None:
    closes = MONDAY_10 + timedelta(hours=48)
    assert rules.accepts_answers(False, closes, closes - timedelta(seconds=1))
    assert not rules.accepts_answers(False, closes, closes)  # even before the close tick
    assert not rules.accepts_answers(True, closes, MONDAY_10)


# -- who may do what --------------------------------------------------------------------------


def test_admin_only_actions_say_what_was_refused() -> None:
    rules.check_admin(True, "schedule pulses")
    assert refused(lambda: rules.check_admin(False, "send pulses")).message.startswith(
        "Only admins can send pulses."
    )


def test_leads_read_the_results_of_their_own_teams_only() -> None:
    assert rules.may_read_results(True, None, [])
    assert rules.may_read_results(False, 7, [3, 7])
    assert not rules.may_read_results(False, 8, [3, 7])
    assert not rules.may_read_results(False, None, [3, 7])  # a channel or people audience


# -- schedules --------------------------------------------------------------------------------


def test_a_one_off_must_still_be_to_come_in_its_own_zone() -> None:
    # 10:30 in Berlin on 16 Nov is 09:30 UTC: already past at 10:00 UTC.
    past = refused(
        lambda: rules.once_at(date(2026, 11, 16), time(10, 30), "Europe/Berlin", MONDAY_10)
    )
    assert past.message == (
        "Mon 16 Nov 2026 10:30 (Europe/Berlin) is in the past. "
        "Pick a date and time that is still to come."
    )
    later = rules.once_at(date(2026, 11, 16), time(12, 0), "Europe/Berlin", MONDAY_10)
    assert later == datetime(2026, 11, 16, 11, 0, tzinfo=UTC)


def test_open_window_defaults_to_the_configured_hours() -> None:
    assert rules.open_minutes(None, 48) == 2880
    assert rules.open_minutes(90, 48) == 90
    assert rules.open_minutes(None, 1.5) == 90


def test_a_resumed_schedule_fires_at_its_next_slot_or_not_at_all() -> None:
    nxt = rules.resume_at("0 10 * * mon", "UTC", None, MONDAY_10)
    assert nxt == MONDAY_10 + timedelta(days=7)
    passed = MONDAY_10 - timedelta(hours=1)
    assert rules.resume_at(None, "UTC", passed, MONDAY_10) is None  # a one-off that went by
    assert rules.resume_at(None, "UTC", MONDAY_10, MONDAY_10) == MONDAY_10


# -- rounds: when they run, close and remind --------------------------------------------------


def test_a_one_off_missed_during_downtime_runs_only_while_it_would_be_open() -> None:
    assert rules.firing(MONDAY_10, None, "UTC", 60, MONDAY_10 + timedelta(minutes=59)) == (
        MONDAY_10,
        None,
    )
    assert rules.firing(MONDAY_10, None, "UTC", 60, MONDAY_10 + timedelta(minutes=60)) == (
        None,
        None,
    )


def test_after_downtime_a_cron_schedule_runs_its_latest_firing_once() -> None:
    daily = "0 10 * * *"
    # Down from Monday 10:00 until Wednesday 11:00, rounds open 48 h: only Wednesday's runs.
    now = MONDAY_10 + timedelta(days=2, hours=1)
    run, following = rules.firing(MONDAY_10, daily, "UTC", 48 * 60, now)
    assert run == MONDAY_10 + timedelta(days=2)
    assert following == MONDAY_10 + timedelta(days=3)
    # With 30-minute rounds, Wednesday's would already be closed: nothing runs.
    assert rules.firing(MONDAY_10, daily, "UTC", 30, now)[0] is None


@QUICK
@given(minutes=st.integers(1, 30 * 1440), late=st.integers(0, 30 * 1440), hours=st.floats(0.5, 48))
def test_a_reminder_comes_before_the_close_and_never_in_the_past(
    minutes: int, late: int, hours: float
) -> None:
    now = MONDAY_10 + timedelta(minutes=late)
    times = rules.round_times(MONDAY_10, minutes, now, reminder=True, hours_before_close=hours)
    assert times.closes_at == MONDAY_10 + timedelta(minutes=minutes)
    if times.remind_at is not None:
        assert now < times.remind_at < times.closes_at
    off = rules.round_times(MONDAY_10, minutes, now, reminder=False, hours_before_close=hours)
    assert off.remind_at is None


def test_quiet_hours_delay_a_question_until_morning_in_the_persons_zone() -> None:
    evening = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
    assert rules.ask_at(evening, "Europe/London", "UTC", QUIET) == datetime(
        2026, 11, 17, 8, 0, tzinfo=UTC
    )
    # 21:00 UTC is 13:00 in Los Angeles: asked at once.
    assert rules.ask_at(evening, "America/Los_Angeles", "UTC", QUIET) == evening
    # Without a zone of their own, the workspace default counts.
    assert rules.ask_at(evening, None, "America/Los_Angeles", QUIET) == evening


def test_nobody_is_reminded_after_the_round_closes() -> None:
    evening = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)
    morning = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)
    assert (
        rules.remind_at(evening, "Europe/London", "UTC", QUIET, morning + timedelta(1)) == morning
    )
    assert rules.remind_at(evening, "Europe/London", "UTC", QUIET, morning) is None


def test_results_go_to_the_owner_and_the_teams_lead_once_each() -> None:
    assert rules.result_reader_ids(1, None) == [1]
    assert rules.result_reader_ids(1, 2) == [1, 2]
    assert rules.result_reader_ids(3, 3) == [3]


def test_every_outbox_key_of_a_round_shares_its_prefix() -> None:
    keys = [rules.ask_key(9, "U1"), rules.remind_key(9, "U1"), rules.results_key(9, "U1")]
    assert keys == ["pulse:9:ask:U1", "pulse:9:remind:U1", "pulse:9:results:U1"]
    assert all(key.startswith(rules.round_prefix(9)) for key in keys)
    assert not rules.ask_key(90, "U1").startswith(rules.round_prefix(9))
