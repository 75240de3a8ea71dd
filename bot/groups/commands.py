"""What an admin asked of teams (parsed by grammar.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class CreateTeam:
    name: str
    lead: str
    channel: str | None = None
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeTeamMembers:
    name: str
    action: Literal["add", "remove"]
    people: tuple[str, ...]


@dataclass(frozen=True)
class SetTeamLead:
    name: str
    lead: str


@dataclass(frozen=True)
class ListTeams:
    pass


@dataclass(frozen=True)
class ShowTeam:
    name: str


@dataclass(frozen=True)
class TeamHelp:
    pass


TeamCommand = CreateTeam | ChangeTeamMembers | SetTeamLead | ListTeams | ShowTeam | TeamHelp
