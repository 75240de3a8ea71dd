"""What an admin or respondent asked of the pulses feature, independent of the platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Literal


@dataclass(frozen=True)
class ChannelAudience:
    channel_id: str


@dataclass(frozen=True)
class TeamAudience:
    name: str


@dataclass(frozen=True)
class UsersAudience:
    user_ids: tuple[str, ...]


Audience = ChannelAudience | TeamAudience | UsersAudience


@dataclass(frozen=True)
class Weekly:
    """`every mon,thu at 10:00`"""

    weekdays: tuple[str, ...]  # "mon" … "sun"
    at: time


@dataclass(frozen=True)
class Cron:
    """`cron "0 10 * * MON"` — standard crontab, day-of-week 0 and 7 are Sunday."""

    expression: str


@dataclass(frozen=True)
class Once:
    """`on 2026-12-01 at 10:00`"""

    day: date
    at: time


Cadence = Weekly | Cron | Once


@dataclass(frozen=True)
class SchedulePulse:
    subject: str
    audience: Audience
    cadence: Cadence
    timezone: str | None = None
    open_minutes: int | None = None


@dataclass(frozen=True)
class PulseNow:
    subject: str
    audience: Audience
    open_minutes: int | None = None


@dataclass(frozen=True)
class ListPulses:
    pass


@dataclass(frozen=True)
class ChangePulse:
    action: Literal["pause", "resume", "cancel"]
    schedule_id: int


@dataclass(frozen=True)
class CancelRound:
    """End an open round (pulse N) without results."""

    round_id: int


@dataclass(frozen=True)
class ClosePulse:
    """Close an open round (pulse N, not schedule N) now: results go out as at its end."""

    round_id: int


@dataclass(frozen=True)
class PulseResults:
    round_id: int | None = None  # None: the latest closed round the caller may see


@dataclass(frozen=True)
class PulseHelp:
    pass


@dataclass(frozen=True)
class AnswerPulse:
    round_id: int
    easy: int
    value: int
    comment: str = ""


PulseCommand = (
    SchedulePulse
    | PulseNow
    | ListPulses
    | ChangePulse
    | ClosePulse
    | CancelRound
    | PulseResults
    | PulseHelp
    | AnswerPulse
)
