"""A team's pictures for its lead: kudos by week, and the pulse map and trend (built by the
pulses' published contract from the same gated summaries the digest's words use)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.lexicon import shorten
from bot.messages import Chart, ChartSeries
from bot.pulses.contract import RoundSummary, pulse_charts

KUDOS_WEEKS = 8


def week_starts(this_start: datetime, zone: str, weeks: int = KUDOS_WEEKS) -> list[datetime]:
    """The starts of the last `weeks` weeks, oldest first, on the local calendar (a week across
    a DST change keeps its wall-clock start)."""
    local = this_start.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return [
        (local - timedelta(weeks=back)).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        for back in range(weeks - 1, -1, -1)
    ]


def kudos_weeks(
    team_name: str, starts: Sequence[datetime], counts: Sequence[tuple[int, int]], zone: str
) -> Chart | None:
    """Kudos received and given by the team's members, week by week; None if there were none."""
    if not any(received or given for received, given in counts):
        return None
    categories = [f"{start.astimezone(ZoneInfo(zone)):%d %b}" for start in starts]
    received = [float(r) for r, _ in counts]
    given = [float(g) for _, g in counts]
    weeks = "; ".join(
        f"week of {label}: {r} received, {g} given"
        for label, (r, g) in zip(categories, counts, strict=True)
    )
    return Chart(
        chart="kudos_weeks",
        title=f"Kudos by week — {shorten(team_name, 60)}",
        alt=f"Kudos received and given by the team, last {len(starts)} weeks: {weeks}.",
        categories=categories,
        series=[
            ChartSeries(name="received", values=list(received)),
            ChartSeries(name="given", values=list(given)),
        ],
    )


def team_charts(
    team_name: str,
    rounds: Sequence[RoundSummary],
    starts: Sequence[datetime],
    counts: Sequence[tuple[int, int]],
    zone: str,
) -> list[Chart]:
    kudos = kudos_weeks(team_name, starts, counts, zone)
    return [*pulse_charts(team_name, rounds), *([kudos] if kudos else [])]
