"""What a user asked of digests (parsed by grammar.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduleDigest:
    team: str
    weekday: str | None = None
    time: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class DigestNow:
    team: str | None = None


@dataclass(frozen=True)
class ListDigests:
    pass


@dataclass(frozen=True)
class CancelDigest:
    schedule_id: int


@dataclass(frozen=True)
class DigestHelp:
    pass


@dataclass(frozen=True)
class EmptyWeeks:
    """`/digest empty-weeks send|skip [team:NAME]`: whether a week with nothing to report
    (no kudos, no round, no quiet member) still sends the team's digest."""

    send: bool
    team: str | None = None


DigestCommand = ScheduleDigest | DigestNow | ListDigests | CancelDigest | DigestHelp | EmptyWeeks
