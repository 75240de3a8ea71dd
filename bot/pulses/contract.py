"""The contract between pulses (which produce results) and digests (which show a team's trend).

The pulses feature implements `PulseSummaries`; the digest feature only reads through it, so
neither needs the other's tables. Nothing here can identify a respondent: only counts and
aggregates, and the aggregates are None unless the round met the anonymity threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.lexicon import shorten
from bot.messages import Chart, ChartPoint, ChartSeries, Message, Refused


@dataclass(frozen=True)
class RoundSummary:
    round_id: int
    schedule_id: int
    subject: str
    scheduled_for: datetime
    closes_at: datetime
    closed: bool
    invited: int
    responded: int
    # True when `responded` met min_responses; every aggregate below is None otherwise.
    shown: bool
    easy_mean: float | None = None
    value_mean: float | None = None
    # Share (0..1) of answers rating 4 or 5.
    easy_favourable: float | None = None
    value_favourable: float | None = None

    @property
    def response_rate(self) -> float:
        return self.responded / self.invited if self.invited else 0.0


class PulseSummaries(Protocol):
    async def for_team(
        self, workspace_id: int, team_id: int, *, until: datetime, limit: int = 8
    ) -> list[RoundSummary]:
        """The team's most recent rounds scheduled before `until`, oldest first (≤ limit)."""
        ...


class NoPulses:
    """Used until the pulses feature is wired in: a digest then simply has no pulse section."""

    async def for_team(
        self, workspace_id: int, team_id: int, *, until: datetime, limit: int = 8
    ) -> list[RoundSummary]:
        return []


# -- pictures of a team's rounds (bot/messages.py `Chart`), for results, digests and the home --

# Where the 1–5 scales are split into the four quadrants of the EASY × VALUE map.
MIDPOINT = 3.0
MAP_LABEL = 40


def quadrant(easy: float, value: float) -> str:
    if easy >= MIDPOINT:
        return "easy & valuable" if value >= MIDPOINT else "easy, little value"
    return "valuable, not easy" if value >= MIDPOINT else "neither easy nor valuable"


def _shown(summary: RoundSummary) -> bool:
    """The gate's verdict as the summary carries it: no mean, no point."""
    return summary.shown and summary.easy_mean is not None and summary.value_mean is not None


def _mean(summary: RoundSummary, mean: float | None) -> float | None:
    return round(mean, 2) if mean is not None and _shown(summary) else None


def easy_value_map(team_name: str, rounds: Sequence[RoundSummary]) -> Chart | None:
    """Every shown round at its mean EASY and VALUE, sized by answers; None when none is shown.

    A round the visibility gate hid gives no point: it is only counted in the words."""
    points = [
        ChartPoint(
            label=shorten(summary.subject, MAP_LABEL),
            x=round(summary.easy_mean or 0.0, 2),
            y=round(summary.value_mean or 0.0, 2),
            size=summary.responded,
        )
        for summary in rounds
        if _shown(summary)
    ]
    if not points:
        return None
    described = "; ".join(
        f"“{point.label}”: EASY {point.x:.1f}, VALUE {point.y:.1f}, {point.size} answers "
        f"({quadrant(point.x, point.y)})"
        for point in points
    )
    hidden = sum(1 for summary in rounds if summary.closed and not _shown(summary))
    note = f" {hidden} more hidden to keep answers anonymous." if hidden else ""
    return Chart(
        chart="easy_value_map",
        title=f"EASY × VALUE — {shorten(team_name, 60)}",
        alt=f"Map of {len(points)} changes by mean EASY (across) and VALUE (up), 1–5: "
        f"{described}.{note}",
        points=points,
    )


def pulse_trend(team_name: str, rounds: Sequence[RoundSummary]) -> Chart | None:
    """Mean EASY and VALUE of the closed rounds, oldest first; a gap where one was hidden."""
    closed = [summary for summary in rounds if summary.closed]
    if not any(_shown(summary) for summary in closed):
        return None
    categories = [f"{s.scheduled_for:%d %b}" for s in closed]
    easy = [_mean(s, s.easy_mean) for s in closed]
    value = [_mean(s, s.value_mean) for s in closed]

    def words(values: list[float | None]) -> str:
        return ", ".join("hidden" if v is None else f"{v:.1f}" for v in values)

    return Chart(
        chart="pulse_trend",
        title=f"EASY and VALUE, last {len(closed)} rounds — {shorten(team_name, 60)}",
        alt=f"Trend over {len(closed)} rounds ({categories[0]} to {categories[-1]}), "
        f"oldest first. EASY: {words(easy)}. VALUE: {words(value)}.",
        categories=categories,
        series=[ChartSeries(name="EASY", values=easy), ChartSeries(name="VALUE", values=value)],
    )


def pulse_charts(team_name: str, rounds: Sequence[RoundSummary]) -> list[Chart]:
    """The map and the trend of a team's rounds, whichever has anything shown."""
    return [
        chart
        for chart in (easy_value_map(team_name, rounds), pulse_trend(team_name, rounds))
        if chart
    ]


# -- what a person's home shows of pulses ------------------------------------------------------


@dataclass(frozen=True)
class WaitingPulse:
    """An open round the person was asked in and has not answered: worked out in memory with
    the pulse key, the way reminders are, and never written down."""

    round_id: int
    subject: str
    closes_at: datetime


@dataclass(frozen=True)
class ScheduleLine:
    schedule_id: int
    subject: str
    audience: str
    status: str
    next_fire_at: datetime | None
    timezone: str


@dataclass(frozen=True)
class OpenRoundLine:
    round_id: int
    subject: str
    closes_at: datetime
    # Coarse, as the anonymity rules allow ("fewer than 5 answers so far" / "5 or more").
    progress: str


class PulseGlance(Protocol):
    async def waiting(
        self, workspace_id: int, person_id: int, user_id: str, *, now: datetime
    ) -> list[WaitingPulse]:
        """Open rounds asked of this person that hold no answer under their tag."""
        ...

    async def admin_view(self, workspace_id: int) -> tuple[list[ScheduleLine], list[OpenRoundLine]]:
        """Schedules still active or paused, and open rounds with their coarse progress."""
        ...

    async def question(self, workspace_id: int, person_id: int, round_id: int) -> Message:
        """A round's question for someone asked in it (refused otherwise), to answer through
        the pulses' own anonymous form."""
        ...


class NoGlance:
    async def waiting(
        self, workspace_id: int, person_id: int, user_id: str, *, now: datetime
    ) -> list[WaitingPulse]:
        return []

    async def admin_view(self, workspace_id: int) -> tuple[list[ScheduleLine], list[OpenRoundLine]]:
        return [], []

    async def question(self, workspace_id: int, person_id: int, round_id: int) -> Message:
        raise Refused("Pulses are not available here.")
