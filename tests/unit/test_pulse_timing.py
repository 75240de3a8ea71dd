"""Pulse firing times: IANA zones, daylight-saving changes, crontab's Sunday = 0."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.ops.config import QuietHours
from bot.pulses import timing


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("cron", "zone", "after", "expected"),
    [
        # Sunday 10:00 in Berlin: 09:00 UTC in winter, 08:00 UTC once summer time starts.
        ("0 10 * * sun", "Europe/Berlin", utc(2026, 3, 22, 8, 0), utc(2026, 3, 22, 9, 0)),
        ("0 10 * * sun", "Europe/Berlin", utc(2026, 3, 22, 9, 0), utc(2026, 3, 29, 8, 0)),
        # Back to winter time on 25 October.
        ("0 10 * * sun", "Europe/Berlin", utc(2026, 10, 18, 8, 0), utc(2026, 10, 25, 9, 0)),
        # New York leaves summer time on 1 November 2026.
        ("0 9 * * mon-fri", "America/New_York", utc(2026, 10, 30, 13, 0), utc(2026, 11, 2, 14, 0)),
        # 02:30 does not exist in Berlin on 29 March: the pulse goes out once, an hour later.
        ("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 3, 0), utc(2026, 3, 29, 1, 30)),
        # 02:30 happens twice on 25 October: the pulse still goes out once that day.
        ("30 2 * * *", "Europe/Berlin", utc(2026, 10, 24, 3, 0), utc(2026, 10, 25, 0, 30)),
        ("30 2 * * *", "Europe/Berlin", utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)),
        # crontab numbering: 0 and 7 are Sunday, 1 is Monday (APScheduler 3.x would read 0 as
        # Monday). 16 November 2026 is a Monday.
        ("0 10 * * 0", "UTC", utc(2026, 11, 16, 10, 0), utc(2026, 11, 22, 10, 0)),
        ("0 10 * * 7", "UTC", utc(2026, 11, 16, 10, 0), utc(2026, 11, 22, 10, 0)),
        ("0 10 * * 1", "UTC", utc(2026, 11, 16, 10, 0), utc(2026, 11, 23, 10, 0)),
        ("0 10 * * MON", "UTC", utc(2026, 11, 16, 9, 0), utc(2026, 11, 16, 10, 0)),
        ("0 10 * * 1-5", "UTC", utc(2026, 11, 20, 10, 0), utc(2026, 11, 23, 10, 0)),
        ("0 10 * * 6-7", "UTC", utc(2026, 11, 16, 10, 0), utc(2026, 11, 21, 10, 0)),
    ],
)
def test_next_fire(cron: str, zone: str, after: datetime, expected: datetime) -> None:
    assert timing.next_fire(cron, zone, after) == expected


def test_day_of_week_fields_become_names() -> None:
    assert timing.cron_days_to_names("0") == "sun"
    assert timing.cron_days_to_names("1-5") == "mon,tue,wed,thu,fri"
    assert timing.cron_days_to_names("MON,wed") == "mon,wed"
    assert timing.cron_days_to_names("*/2") == "tue,thu,sat,sun"
    with pytest.raises(timing.ScheduleError, match="runs backwards"):
        timing.cron_days_to_names("5-1")


def test_latest_fire_runs_only_the_newest_missed_firing() -> None:
    missed = timing.latest_fire(
        "0 * * * *", "UTC", utc(2026, 11, 16, 6, 0), utc(2026, 11, 16, 9, 30)
    )
    assert missed == utc(2026, 11, 16, 9, 0)
    assert (
        timing.latest_fire("0 10 * * *", "UTC", utc(2026, 11, 16, 10, 1), utc(2026, 11, 16, 11))
        is None
    )


def test_durations_and_clock_times() -> None:
    assert timing.parse_duration("48h") == 2880
    assert timing.parse_duration("1d12h") == 2160
    assert timing.parse_duration("90m") == 90
    assert timing.parse_clock("9:05") == time(9, 5)
    with pytest.raises(timing.ScheduleError):
        timing.parse_clock("24:00")


def test_quiet_hours_delay_until_they_end_in_the_persons_zone() -> None:
    quiet = QuietHours(enabled=True, start="20:00", end="08:00")
    # 21:00 UTC is 22:00 in Berlin: wait until 08:00 Berlin = 07:00 UTC.
    assert timing.outside_quiet_hours(utc(2026, 11, 16, 21), "Europe/Berlin", quiet) == utc(
        2026, 11, 17, 7
    )
    assert timing.outside_quiet_hours(utc(2026, 11, 16, 12), "Europe/Berlin", quiet) == utc(
        2026, 11, 16, 12
    )
    off = QuietHours(enabled=False)
    assert timing.outside_quiet_hours(utc(2026, 11, 16, 23), "UTC", off) == utc(2026, 11, 16, 23)
