"""Wires groups of people ("teams" to users: `/team …`) into the bot."""

from __future__ import annotations

from bot.groups.commands import (
    ChangeTeamMembers,
    CreateTeam,
    ListTeams,
    SetTeamLead,
    ShowTeam,
    TeamHelp,
)
from bot.groups.grammar import PARSERS
from bot.groups.service import TeamService
from bot.host import Host


def install(host: Host) -> TeamService:
    teams = TeamService(host.db, host.clock, host.config, host.people)
    host.register_parsers(PARSERS)
    host.register_command(CreateTeam, teams.create)
    host.register_command(ChangeTeamMembers, teams.change_members)
    host.register_command(SetTeamLead, teams.set_lead)
    host.register_command(ListTeams, teams.list)
    host.register_command(ShowTeam, teams.show)
    host.register_command(TeamHelp, teams.help)
    return teams
