"""Weekly digest times in the schedule's own zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.app import parse
from bot.digests.commands import DigestNow, ScheduleDigest
from bot.digests.rules import next_fire, period_key, window_ending
from bot.groups.commands import ChangeTeamMembers, CreateTeam
from bot.lexicon import ParseError

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def test_friday_four_pm_london_follows_the_clock_change() -> None:
    before = next_fire(datetime(2026, 10, 19, tzinfo=UTC), "fri", "16:00", LONDON)
    after = next_fire(before, "fri", "16:00", LONDON)
    assert before == datetime(2026, 10, 23, 15, 0, tzinfo=UTC)  # 16:00 BST
    assert after == datetime(2026, 10, 30, 16, 0, tzinfo=UTC)  # 16:00 GMT


def test_a_repeated_local_time_fires_once() -> None:
    first = next_fire(datetime(2026, 10, 24, tzinfo=UTC), "sun", "01:30", LONDON)
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # the first 01:30 (BST)
    assert next_fire(first, "sun", "01:30", LONDON) == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)


def test_a_skipped_local_time_fires_an_hour_later_on_the_wall_clock() -> None:
    fired = next_fire(datetime(2027, 3, 10, tzinfo=UTC), "sun", "02:30", NEW_YORK)
    assert fired == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)  # 03:30 EDT


def test_weekday_is_the_local_weekday_not_the_utc_one() -> None:
    # 23:30 UTC Friday is already Saturday in Auckland; Saturday 09:00 there has passed.
    auckland = ZoneInfo("Pacific/Auckland")
    fired = next_fire(datetime(2026, 11, 20, 23, 30, tzinfo=UTC), "sat", "09:00", auckland)
    assert fired == datetime(2026, 11, 27, 20, 0, tzinfo=UTC)


def test_the_week_before_a_clock_change_is_seven_local_days() -> None:
    window = window_ending(datetime(2026, 10, 30, 16, 0, tzinfo=UTC), LONDON, 30)
    assert window.this_start == datetime(2026, 10, 23, 15, 0, tzinfo=UTC)  # 16:00 BST
    assert window.last_start == datetime(2026, 10, 16, 15, 0, tzinfo=UTC)


def test_period_is_the_local_iso_week() -> None:
    assert period_key(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), LONDON) == "2026-W47"
    assert period_key(datetime(2026, 11, 22, 23, 30, tzinfo=UTC), ZoneInfo("Asia/Tokyo")) == (
        "2026-W48"
    )


def test_team_and_digest_commands_parse() -> None:
    assert parse("/team create Support lead <@U1> members <@U2>, <@U3>") == CreateTeam(
        name="support", lead="U1", members=("U2", "U3")
    )
    assert parse("/team create ops lead <@U1|dana> channel <#C9|ops>") == CreateTeam(
        name="ops", lead="U1", channel="C9"
    )
    assert parse("/team remove team:ops <@U2>") == ChangeTeamMembers("ops", "remove", ("U2",))
    assert parse("/digest schedule team:ops every Thursday at 9:05 tz Asia/Tokyo") == (
        ScheduleDigest(team="ops", weekday="thu", time="09:05", timezone="Asia/Tokyo")
    )
    assert parse("/digest now") == DigestNow()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/team create ops lead <@U1>", "Say who is in the team"),
        ("/team create ops lead <@U1> channel ops", "'ops' is not a channel I know"),
        ("/team create ops lead dana members <@U2>", "'dana' is not a mention"),
        ("/team create Ops! lead <@U1> members <@U2>", "'Ops!' is not a team name"),
        ("/digest schedule team:ops every 5", "'5' is not a weekday"),
        ("/digest schedule team:ops at noon", "'noon' is not a time of day"),
        ("/digest schedule team:ops every", "Usage: /digest schedule team:NAME"),
        ("/digest cancel soon", "Usage: /digest cancel ID"),
    ],
)
def test_bad_team_and_digest_commands_say_what_to_type(line: str, expected: str) -> None:
    with pytest.raises(ParseError, match=expected.replace("(", r"\(")):
        parse(line)
