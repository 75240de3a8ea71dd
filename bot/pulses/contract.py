"""The contract between pulses (which produce results) and digests (which show a team's trend).

The pulses feature implements `PulseSummaries`; the digest feature only reads through it, so
neither needs the other's tables. Nothing here can identify a respondent: only counts and
aggregates, and the aggregates are None unless the round met the anonymity threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.messages import Message, Refused


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
