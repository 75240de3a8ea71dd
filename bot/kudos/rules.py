"""Calendar periods in a person's own time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.kudos.commands import Period


def period_start(now: datetime, zone: ZoneInfo, period: Period) -> datetime:
    """Start of the current week (Monday), month or quarter in `zone`, as aware UTC-comparable."""
    local = now.astimezone(zone)
    day = local.date()
    if period == "week":
        day -= timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    else:
        day = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return datetime(day.year, day.month, day.day, tzinfo=zone)
