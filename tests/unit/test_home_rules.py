"""The home's pure rules: periods and the allowance's reset where the person is."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.home import rules

TOKYO = ZoneInfo("Asia/Tokyo")


def test_the_allowance_resets_at_the_next_local_midnight() -> None:
    now = datetime(2026, 11, 16, 20, 30, tzinfo=UTC)  # already Tuesday 05:30 in Tokyo
    assert rules.allowance_resets_at(now, TOKYO) == datetime(2026, 11, 18, tzinfo=TOKYO)
    assert rules.until(now, rules.allowance_resets_at(now, TOKYO)) == "in 18 h 30 min"


def test_weeks_start_on_monday_and_months_on_the_first_where_the_person_is() -> None:
    now = datetime(2026, 11, 15, 20, 0, tzinfo=UTC)  # Sunday in UTC, Monday in Tokyo
    assert rules.week_start(now, TOKYO) == datetime(2026, 11, 16, tzinfo=TOKYO)
    assert rules.week_start(now, ZoneInfo("UTC")) == datetime(2026, 11, 9, tzinfo=ZoneInfo("UTC"))
    assert rules.month_start(now, TOKYO) == datetime(2026, 11, 1, tzinfo=TOKYO)


def test_buttons_run_only_the_commands_a_home_offers() -> None:
    assert rules.may_run("kudos")
    assert rules.may_run("pulse pause 3") and rules.may_run("pulse close 12")
    assert not rules.may_run('pulse now "x" to team:a')
    assert not rules.may_run("kudos @bob thanks")
    assert rules.first([1, 2, 3], 2) == ([1, 2], 1)
