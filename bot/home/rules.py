"""Pure decisions of the home: periods, when the allowance resets, what fits, what a button
may run. No I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

T = TypeVar("T")

# What one home shows of each list before "and N more": together they stay well inside Slack's
# 100 blocks for a home tab and the 28 KB card budget (tests/unit/test_home_limits.py).
LATEST_KUDOS = 3
WAITING_PULSES = 5
TEAMS = 10
SCHEDULES = 8
OPEN_ROUNDS = 8
# The rounds a lead's team map places (the weekly digest's own number).
MAP_ROUNDS = 8

# The typed commands a home button may run for the person pressing it; every one is checked
# again (admin only, …) by the feature that owns it.
_RUNNABLE = re.compile(r"^(kudos|pulse (pause|resume|close) \d{1,9})$")


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Monday 00:00 of this week where the person is."""
    day = now.astimezone(zone).date()
    day -= timedelta(days=day.weekday())
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def month_start(now: datetime, zone: ZoneInfo) -> datetime:
    day = now.astimezone(zone).date()
    return datetime(day.year, day.month, 1, tzinfo=zone)


def allowance_resets_at(now: datetime, zone: ZoneInfo) -> datetime:
    """The next local midnight: the daily allowance counts the giver's own calendar day."""
    day = now.astimezone(zone).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def until(now: datetime, later: datetime) -> str:
    """'in 3 h 20 min' — coarse, as a person reads it."""
    minutes = max(0, int((later - now).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"in {hours} h {minutes} min"
    return f"in {hours} h" if hours else f"in {minutes} min"


def first(items: Sequence[T], limit: int) -> tuple[list[T], int]:
    """The first `limit` items and how many more there are."""
    return list(items[:limit]), max(0, len(items) - limit)


def may_run(text: str) -> bool:
    return bool(_RUNNABLE.match(text))
