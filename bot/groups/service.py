"""Teams of people: created and changed by admins; a channel-backed team follows its channel.

A channel-backed team's `team_members` rows are a cache of the channel's membership,
refreshed from the platform's Directory when the team is created or shown and whenever a
digest is built, so the digest's set-based queries treat both kinds of team alike.
"""

from __future__ import annotations

from bot.groups import messages, rules
from bot.groups.commands import (
    ChangeTeamMembers,
    CreateTeam,
    ListTeams,
    SetTeamLead,
    ShowTeam,
    TeamHelp,
)
from bot.messages import Refused, Reply
from bot.ops.config import Config
from bot.people.actor import Caller
from bot.people.directory import People
from bot.runtime.clock import Clock
from storage.db import Database
from storage.errors import Duplicate
from storage.models import Person, Team
from storage.repositories import audit
from storage.repositories import digests as digest_rows
from storage.repositories import people as people_rows
from storage.repositories import teams as team_rows


class TeamService:
    def __init__(self, db: Database, clock: Clock, config: Config, people: People) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.people = people

    # -- commands ---------------------------------------------------------------------------

    async def create(self, caller: Caller, command: CreateTeam) -> Reply:
        if not rules.may_manage_teams(caller.is_admin):
            return Reply.refused(rules.ADMINS_ONLY)
        try:
            lead = await self._person(caller, command.lead, "lead")
            async with self.db.read() as session:
                taken = await team_rows.find(session, caller.workspace_id, command.name)
            rules.check_name_free(command.name, taken is not None)
            if command.channel:
                member_ids = await self.people.channel_member_ids(
                    caller.workspace, caller.directory, command.channel
                )
            else:
                found = [await self._person(caller, uid, "member") for uid in command.members]
                member_ids = [person.id for person in found if person.id]
        except Refused as refusal:
            return refusal.reply()
        now = self.clock.now()
        try:
            async with self.db.write() as session:
                team = await team_rows.create(
                    session,
                    workspace_id=caller.workspace_id,
                    name=command.name,
                    lead_id=lead.id,
                    channel_id=command.channel,
                    now=now,
                )
                assert team.id is not None
                await team_rows.add_members(session, team.id, member_ids)
                source = f"channel {command.channel}" if command.channel else "members"
                await audit.record(
                    session,
                    workspace_id=caller.workspace_id,
                    actor=caller.person.external_id,
                    action="team.create",
                    detail=f"{command.name}: lead {lead.external_id}, {source}, "
                    f"{len(member_ids)} members",
                    now=now,
                )
        except Duplicate:  # created by someone else a moment ago
            return Reply.refused(f"There is already a team called {command.name}.")
        return messages.created(command.name, lead, len(member_ids), command.channel)

    async def change_members(self, caller: Caller, command: ChangeTeamMembers) -> Reply:
        if not rules.may_manage_teams(caller.is_admin):
            return Reply.refused(rules.ADMINS_ONLY)
        try:
            team = await self._team(caller, command.name)
            rules.check_members_listed(team.name, team.channel_id, command.action)
            people = [await self._person(caller, uid, "member") for uid in command.people]
        except Refused as refusal:
            return refusal.reply()
        assert team.id is not None
        ids = [person.id for person in people if person.id]
        now = self.clock.now()
        async with self.db.write() as session:
            if command.action == "add":
                changed = await team_rows.add_members(session, team.id, ids)
            else:
                changed = await team_rows.remove_members(session, team.id, ids)
            if changed:
                await audit.record(
                    session,
                    workspace_id=caller.workspace_id,
                    actor=caller.person.external_id,
                    action=f"team.{command.action}",
                    detail=f"{team.name}: {' '.join(p.external_id for p in people)}",
                    now=now,
                )
            total = (await team_rows.member_counts(session, [team.id])).get(team.id, 0)
        return messages.members_changed(team.name, command.action, people, bool(changed), total)

    async def set_lead(self, caller: Caller, command: SetTeamLead) -> Reply:
        if not rules.may_manage_teams(caller.is_admin):
            return Reply.refused(rules.ADMINS_ONLY)
        try:
            team = await self._team(caller, command.name)
            lead = await self._person(caller, command.lead, "lead")
        except Refused as refusal:
            return refusal.reply()
        now = self.clock.now()
        assert team.id is not None
        async with self.db.write() as session:
            await team_rows.set_lead(session, team.id, lead.id)
            await audit.record(
                session,
                workspace_id=caller.workspace_id,
                actor=caller.person.external_id,
                action="team.lead",
                detail=f"{team.name}: {lead.external_id}",
                now=now,
            )
        return messages.lead_set(team.name, lead)

    async def list(self, caller: Caller, _command: ListTeams) -> Reply:
        if not rules.may_manage_teams(caller.is_admin):
            return Reply.refused(rules.ADMINS_ONLY)
        async with self.db.read() as session:
            found = await team_rows.in_workspace(session, caller.workspace_id)
            ids = [team.id for team in found if team.id]
            counts = await team_rows.member_counts(session, ids)
            leads = await people_rows.by_ids(session, [t.lead_id for t in found if t.lead_id])
            schedules = {
                schedule.team_id: schedule
                for schedule, _team in await digest_rows.active_schedules(
                    session, caller.workspace_id, ids
                )
            }
        return messages.team_list(found, counts, leads, schedules)

    async def show(self, caller: Caller, command: ShowTeam) -> Reply:
        if not rules.may_manage_teams(caller.is_admin):
            return Reply.refused(rules.ADMINS_ONLY)
        try:
            team = await self._team(caller, command.name)
        except Refused as refusal:
            return refusal.reply()
        assert team.id is not None
        if team.channel_id:
            await self.people.refresh_channel_team(caller.workspace, caller.directory, team)
        async with self.db.read() as session:
            members = await team_rows.members(session, team.id)
            lead = await people_rows.get(session, team.lead_id) if team.lead_id else None
            schedule = await digest_rows.schedule_for_team(session, team.id)
        return messages.team_card(team, lead, members, schedule)

    async def help(self, _caller: Caller, _command: TeamHelp) -> Reply:
        return messages.help_reply()

    # -- lookups ----------------------------------------------------------------------------

    async def _team(self, caller: Caller, name: str) -> Team:
        async with self.db.read() as session:
            team = await team_rows.find(session, caller.workspace_id, name)
        return rules.check_found(name, team)

    async def _person(self, caller: Caller, user_id: str, role: rules.Role) -> Person:
        person = await self.people.resolve(caller.workspace, caller.directory, user_id)
        return rules.check_person(user_id, person, role)

