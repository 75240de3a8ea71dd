"""The rules of giving kudos, decided without a database (bot/kudos/rules.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.kudos import rules
from bot.messages import Refused
from bot.ops.config import KudosSettings

# Enough cases to find a wrong boundary, few enough to keep these tests fast; no deadline: the
# first use of a time zone reads its file, which is slow on a busy machine.
QUICK = settings(max_examples=60, deadline=None)

SETTINGS = KudosSettings()  # 5 a day, #easy and #value, reasons of 2 to 1,000 characters
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")

# Instants from 1990 to 2040, in any IANA zone.
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
zones = st.timezones()


@dataclass
class Someone:
    display_name: str = "Sam"
    is_bot: bool = False
    is_external: bool = False
    forgotten_at: datetime | None = None


def refusal(call: object) -> Refused:
    assert callable(call)
    with pytest.raises(Refused) as raised:
        call()
    return raised.value


# -- the daily allowance ----------------------------------------------------------------------


@QUICK
@given(daily=st.integers(1, 1000), used=st.integers(0, 2000))
def test_what_is_left_is_never_negative_nor_above_the_allowance(daily: int, used: int) -> None:
    left = rules.Allowance(daily, used).left
    assert 0 <= left <= daily
    assert left == max(0, daily - used)


@QUICK
@given(daily=st.integers(1, 1000), used=st.integers(0, 2000), awards=st.integers(1, 60))
def test_a_kudos_fits_the_allowance_whole_or_is_refused(daily: int, used: int, awards: int) -> None:
    allowance = rules.Allowance(daily, used)
    if used + awards <= daily:
        left = allowance.take(awards)
        assert 0 <= left <= daily - awards
        assert left == daily - used - awards
    else:
        with pytest.raises(Refused):
            allowance.take(awards)


def test_the_last_kudos_of_the_day_uses_the_allowance_up() -> None:
    assert rules.Allowance(5, 4).take(1) == 0
    refused = refusal(lambda: rules.Allowance(5, 5).take(1))
    assert refused.message == (
        "You've given all 5 of today's kudos — thank you for being generous! "
        "Your allowance refills tomorrow."
    )
    assert refused.field == "recipients"


def test_thanking_more_people_than_are_left_says_how_many_are_left() -> None:
    refused = refusal(lambda: rules.Allowance(5, 3).take(3))
    assert refused.message == (
        "You have 2 kudos left today, but this would give 3. "
        "Thank fewer people, or try again tomorrow."
    )


def test_an_allowance_lowered_below_what_was_given_leaves_nothing() -> None:
    assert rules.Allowance(daily=3, used=5).left == 0
    assert "given all 3 of today's kudos" in refusal(lambda: rules.Allowance(3, 5).take(1)).message


@QUICK
@given(zone=zones, day=st.dates(date(1995, 1, 1), date(2037, 12, 31)), share=st.floats(0, 1))
def test_the_allowance_day_runs_from_local_midnight_to_local_midnight(
    zone: ZoneInfo, day: date, share: float
) -> None:
    """Whatever the zone and whatever the clock changes, every instant between two local
    midnights counts against that local day, and the instant before against the day before."""
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    assume(start.astimezone(zone).date() == day < end.astimezone(zone).date())  # day exists
    inside = start + (end - start) * min(share, 0.999999)
    assert rules.giver_day(inside, zone) == day
    assert rules.giver_day(start - timedelta(microseconds=1), zone) < day
    assert rules.giver_day(end, zone) > day


def test_tokyo_gets_a_fresh_allowance_at_its_own_midnight() -> None:
    # 15:00 UTC is midnight in Tokyo: same UTC date, new day for the giver.
    assert rules.giver_day(datetime(2026, 11, 16, 14, 59, tzinfo=UTC), TOKYO) == date(2026, 11, 16)
    assert rules.giver_day(datetime(2026, 11, 16, 15, 0, tzinfo=UTC), TOKYO) == date(2026, 11, 17)


def test_a_los_angeles_evening_still_counts_against_that_evening() -> None:
    # 01:00 UTC on the 17th is 17:00 on the 16th in Los Angeles.
    assert rules.giver_day(datetime(2026, 11, 17, 1, 0, tzinfo=UTC), LOS_ANGELES) == date(
        2026, 11, 16
    )


def test_on_the_night_clocks_go_forward_the_allowance_resets_at_local_midnight() -> None:
    # Berlin switches to summer time on 29 March 2026; local midnight is still 23:00 UTC.
    assert rules.giver_day(datetime(2026, 3, 28, 22, 59, tzinfo=UTC), BERLIN) == date(2026, 3, 28)
    assert rules.giver_day(datetime(2026, 3, 28, 23, 0, tzinfo=UTC), BERLIN) == date(2026, 3, 29)
    # …and the next reset comes 23 hours later, at midnight summer time.
    assert rules.giver_day(datetime(2026, 3, 29, 21, 59, tzinfo=UTC), BERLIN) == date(2026, 3, 29)
    assert rules.giver_day(datetime(2026, 3, 29, 22, 0, tzinfo=UTC), BERLIN) == date(2026, 3, 30)


# -- recipients -------------------------------------------------------------------------------


def test_each_person_is_thanked_once_in_the_order_named() -> None:
    assert rules.distinct_recipients(["bob", "amy", "bob", "cy", "amy"]) == ["bob", "amy", "cy"]


@QUICK
@given(st.lists(st.sampled_from(["U1", "U2", "U3", "U4"]), min_size=1))
def test_naming_someone_twice_never_costs_two_awards(user_ids: list[str]) -> None:
    distinct = rules.distinct_recipients(user_ids)
    assert len(distinct) == len(set(user_ids)) and set(distinct) == set(user_ids)
    assert distinct[0] == user_ids[0]


def test_nobody_named_is_refused() -> None:
    assert refusal(lambda: rules.distinct_recipients([])).message == (
        "Choose at least one person to thank."
    )


def test_no_kudos_to_yourself() -> None:
    rules.check_not_self("U2", "U1")
    assert (
        "can't give kudos to yourself" in refusal(lambda: rules.check_not_self("U1", "U1")).message
    )


def test_only_known_living_humans_can_be_thanked() -> None:
    sam = Someone()
    assert rules.check_recipient("U2", sam) is sam
    assert refusal(lambda: rules.check_recipient("U9", None)).message == (
        "I couldn't find the person 'U9' in this workspace. "
        "Mention them with @ so I can tell who you mean."
    )
    bot = Someone(display_name="Deploybot", is_bot=True)
    assert refusal(lambda: rules.check_recipient("B1", bot)).message == (
        "Deploybot is a bot — kudos are for people."
    )
    nameless = Someone(display_name="", is_bot=True)
    assert refusal(lambda: rules.check_recipient("B2", nameless)).message.startswith("B2 is a bot")
    gone = Someone(forgotten_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert refusal(lambda: rules.check_recipient("U3", gone)).message == (
        "That person is no longer part of this workspace."
    )
    guest = Someone(display_name="Gus", is_external=True)
    assert refusal(lambda: rules.check_recipient("U4", guest)).message.startswith(
        "Gus is a guest from another organisation"
    )


# -- the reason and the tags ------------------------------------------------------------------


def test_a_typed_kudos_needs_a_reason_of_at_least_two_words() -> None:
    assert "Add a reason" in refusal(lambda: rules.check_reason("", SETTINGS, strict=True)).message
    too_short = refusal(lambda: rules.check_reason("for docs", SETTINGS, strict=True))
    assert too_short.message.startswith("Say a little more about what they did (at least 2 words)")
    assert too_short.field == "reason"
    assert rules.check_reason("fixed docs", SETTINGS, strict=True) == "fixed docs"


def test_a_leading_for_and_bare_punctuation_are_not_words() -> None:
    assert rules.reason_words("for the fix") == 2
    assert rules.reason_words("great ! — :)") == 1
    assert rules.reason_words("For") == 0


def test_a_reason_may_use_the_whole_limit_but_not_more() -> None:
    exact = "thanks " + "x" * 993
    assert len(exact) == 1000
    assert rules.check_reason(exact, SETTINGS, strict=True) == exact
    refused = refusal(lambda: rules.check_reason(exact + "x", SETTINGS, strict=True))
    assert refused.message == (
        "Your reason is 1,001 characters; the limit is 1,000. Please shorten it."
    )


def test_a_reacted_to_message_is_taken_as_it_is() -> None:
    assert rules.check_reason("", SETTINGS, strict=False) == "(no text)"
    assert rules.check_reason("ok", SETTINGS, strict=False) == "ok"
    shortened = rules.check_reason("x" * 5000, SETTINGS, strict=False)
    assert len(shortened) == 1000 and shortened.endswith("…")


def test_an_unknown_tag_is_refused_with_the_valid_ones() -> None:
    refused = refusal(lambda: rules.check_tags(("easy", "speed"), SETTINGS, strict=True))
    assert refused.message == (
        "Unknown tag #speed. Valid tags: #easy (Made it EASY), #value (Added VALUE)."
    )
    assert refused.field == "tags"
    plural = refusal(lambda: rules.check_tags(("a", "b"), SETTINGS, strict=True)).message
    assert plural.startswith("Unknown tags #a, #b.")


def test_known_tags_are_kept_in_order_and_other_words_ignored_in_a_reaction() -> None:
    assert rules.check_tags(("value", "easy"), SETTINGS, strict=True) == ("value", "easy")
    assert rules.check_tags(("speed", "easy"), SETTINGS, strict=False) == ("easy",)


# -- undo, where it is announced, and the outbox keys -----------------------------------------


def test_undo_reaches_back_fifteen_minutes_the_last_one_included() -> None:
    given_at = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
    assert rules.may_undo(given_at, given_at + timedelta(minutes=15), 15)
    assert not rules.may_undo(given_at, given_at + timedelta(minutes=15, seconds=1), 15)
    assert rules.may_undo(given_at, given_at + timedelta(minutes=30), 30)


def test_the_kudos_channel_wins_over_where_it_was_given() -> None:
    assert rules.celebration_channel("CKUDOS", "CGENERAL") == "CKUDOS"
    assert rules.celebration_channel(None, "CGENERAL") == "CGENERAL"
    assert rules.celebration_channel(None, None) is None  # given in a DM: no public post


def test_a_recipient_is_pointed_to_the_channel_only_where_they_were_thanked() -> None:
    assert rules.channel_named_in_dm("CGENERAL", "CGENERAL") == "CGENERAL"
    assert rules.channel_named_in_dm("CGENERAL", "CKUDOS") is None
    assert rules.channel_named_in_dm(None, None) is None


def test_outbox_keys_keep_the_format_rows_in_flight_use() -> None:
    assert rules.post_key(42) == "kudos:42:post"
    assert rules.dm_key(42, "U7") == "kudos:42:dm:U7"
    assert rules.withdrawn_key(42) == "kudos:42:withdrawn"


# -- stats and leaderboard periods ------------------------------------------------------------


@QUICK
@given(now=instants, zone=zones)
def test_every_period_starts_at_a_local_midnight_and_contains_now(
    now: datetime, zone: ZoneInfo
) -> None:
    today = now.astimezone(zone).date()
    for period in ("week", "month", "quarter"):
        start = rules.period_start(now, zone, period)
        first_day = start.astimezone(zone).date()
        assert start <= now
        assert first_day <= today
        if period == "week":
            assert first_day.weekday() == 0 and (today - first_day).days < 7
        elif period == "month":
            assert (first_day.day, first_day.month, first_day.year) == (1, today.month, today.year)
        else:
            assert first_day.day == 1 and first_day.month in (1, 4, 7, 10)
            assert first_day.year == today.year and 0 <= today.month - first_day.month <= 2


def test_sunday_night_in_new_york_is_still_the_week_that_began_on_monday() -> None:
    new_york = ZoneInfo("America/New_York")
    # Monday 04:30 UTC is Sunday 23:30 in New York.
    start = rules.period_start(datetime(2026, 11, 23, 4, 30, tzinfo=UTC), new_york, "week")
    assert start.astimezone(UTC) == datetime(2026, 11, 16, 5, 0, tzinfo=UTC)
