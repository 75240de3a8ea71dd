"""What a user asked for, independent of the platform it was typed on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.digest_commands import DigestCommand
from bot.team_commands import TeamCommand

Period = Literal["week", "month", "quarter"]


@dataclass(frozen=True)
class GiveKudos:
    recipients: tuple[str, ...]
    reason: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpenKudosForm:
    pass


@dataclass(frozen=True)
class UndoKudos:
    pass


@dataclass(frozen=True)
class ShowStats:
    user_id: str | None = None


@dataclass(frozen=True)
class ShowTop:
    period: Period = "month"


@dataclass(frozen=True)
class ShowHelp:
    topic: str = "kudos"


Command = (
    GiveKudos
    | OpenKudosForm
    | UndoKudos
    | ShowStats
    | ShowTop
    | ShowHelp
    | TeamCommand
    | DigestCommand
)
