"""`/team …` text → team commands (admins manage teams; see service.py)."""

from __future__ import annotations

from typing import Literal

from bot.groups.commands import (
    ChangeTeamMembers,
    CreateTeam,
    ListTeams,
    SetTeamLead,
    ShowTeam,
    TeamCommand,
    TeamHelp,
)
from bot.lexicon import CHANNEL, MENTION, ParseError, team_name

CREATE_USAGE = "/team create NAME lead @LEAD (channel #CHANNEL | members @a @b …)"


def people_ids(words: list[str], usage: str) -> tuple[str, ...]:
    found: list[str] = []
    for word in words:
        for piece in (part for part in word.split(",") if part):
            match = MENTION.fullmatch(piece)
            if match is None:
                raise ParseError(f"Mention people with @ ('{piece}' is not a mention). {usage}")
            if match.group(1) not in found:
                found.append(match.group(1))
    return tuple(found)


def _one_person(words: list[str], usage: str) -> str:
    people = people_ids(words, usage)
    if len(people) != 1:
        raise ParseError(f"Name exactly one person with @. Usage: {usage}")
    return people[0]


def parse_team(args: str) -> TeamCommand:
    words = args.split()
    if not words or words[0].lower() in {"help", "?"}:
        return TeamHelp()
    keyword, rest = words[0].lower(), words[1:]
    if keyword == "create":
        return _parse_create(rest)
    if keyword in {"add", "remove"}:
        usage = f"Usage: /team {keyword} NAME @person [@person …]"
        if len(rest) < 2:
            raise ParseError(usage)
        action: Literal["add", "remove"] = "add" if keyword == "add" else "remove"
        return ChangeTeamMembers(team_name(rest[0], usage), action, people_ids(rest[1:], usage))
    if keyword == "lead":
        usage = "Usage: /team lead NAME @person"
        if len(rest) < 2:
            raise ParseError(usage)
        return SetTeamLead(team_name(rest[0], usage), _one_person(rest[1:], usage))
    if keyword == "list":
        if rest:
            raise ParseError("'/team list' takes nothing after it.")
        return ListTeams()
    if keyword == "show":
        if len(rest) != 1:
            raise ParseError("Usage: /team show NAME")
        return ShowTeam(team_name(rest[0], "/team show NAME"))
    raise ParseError(
        f"I don't know '/team {keyword}'. Try /team create, add, remove, lead, list, show or help."
    )


def _parse_create(rest: list[str]) -> CreateTeam:
    usage = f"Usage: {CREATE_USAGE}"
    if len(rest) < 3 or rest[1].lower() != "lead":
        raise ParseError(usage)
    name = team_name(rest[0], usage)
    lead = _one_person(rest[2:3], usage)
    tail = rest[3:]
    if not tail:
        raise ParseError(f"Say who is in the team: a channel or a list of members. {usage}")
    kind = tail[0].lower()
    if kind == "channel":
        if len(tail) != 2:
            raise ParseError(f"Name one channel with #. {usage}")
        match = CHANNEL.fullmatch(tail[1])
        if match is None:
            raise ParseError(
                f"'{tail[1]}' is not a channel I know — mention an existing channel with #. {usage}"
            )
        return CreateTeam(name=name, lead=lead, channel=match.group(1))
    if kind == "members":
        members = people_ids(tail[1:], usage)
        if not members:
            raise ParseError(f"List the members with @. {usage}")
        return CreateTeam(name=name, lead=lead, members=members)
    raise ParseError(usage)


# The words this feature answers; install() registers them with the core.
PARSERS = {"team": parse_team}
