"""The contract between pulses (which produce results) and digests (which show a team's trend).

The pulses feature implements `PulseSummaries`; the digest feature only reads through it, so
neither needs the other's tables. Nothing here can identify a respondent: only counts and
aggregates, and the aggregates are None unless the round met the anonymity threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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
