"""The rules of teams (groups of people) as pure decisions: no I/O, no database.

Who may manage teams, whether a name is free, who can be a lead or member, and how a team's
membership may change. The service looks things up and stores what these rules allow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol, TypeVar

from bot.messages import Refused

ADMINS_ONLY = (
    "Only admins can manage teams. Ask one of your workspace admins (or an admin listed in "
    "app.yaml) to do it."
)

Role = Literal["lead", "member"]


def may_manage_teams(is_admin: bool) -> bool:
    """Creating, changing, listing and showing teams is for admins; a lead reads their
    team through its digest, not by editing it."""
    return is_admin


def check_name_free(name: str, taken: bool) -> None:
    if taken:
        raise Refused(
            f"There is already a team called {name}. Change it with "
            f"/team add|remove|lead {name} …, or pick another name."
        )


class Named(Protocol):
    name: str


T = TypeVar("T", bound=Named)


def check_found(name: str, team: T | None) -> T:
    if team is None:
        raise Refused(f"There is no team called {name}. See them all with /team list.")
    return team


class Candidate(Protocol):
    """What the rules need to know of a person we have on record."""

    display_name: str
    is_bot: bool
    forgotten_at: datetime | None


P = TypeVar("P", bound=Candidate)


def check_person(user_id: str, person: P | None, role: Role) -> P:
    """A lead or member is a person of this workspace: known, human, not forgotten."""
    if person is None:
        raise Refused(f"I couldn't find '{user_id}' in this workspace. Mention people with @.")
    if person.is_bot:
        raise Refused(f"{person.display_name or user_id} is a bot and can't be a team {role}.")
    if person.forgotten_at is not None:
        raise Refused(f"{user_id} is no longer part of this workspace.")
    return person


def check_members_listed(team_name: str, channel_id: str | None, action: str) -> None:
    """A team that follows a channel takes its members from the channel, so they are changed
    there; only a team of listed members is changed with /team add|remove."""
    if channel_id:
        raise Refused(
            f"{team_name} follows a channel, so its members are the channel's members: "
            f"{'add them to' if action == 'add' else 'remove them from'} "
            "the channel instead."
        )
