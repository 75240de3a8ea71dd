"""Teams of people: created and changed by admins; a channel-backed team follows its channel.

A channel-backed team's `team_members` rows are a cache of the channel's membership,
refreshed from the platform's Directory when the team is created or shown and whenever a
digest is built, so the digest's set-based queries treat both kinds of team alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.groups.commands import (
    ChangeTeamMembers,
    CreateTeam,
    ListTeams,
    SetTeamLead,
    ShowTeam,
    TeamHelp,
)
from bot.messages import (
    ChannelLink,
    Context,
    Header,
    Message,
    Refused,
    Reply,
    ReplyTo,
    Section,
    Span,
    Strong,
    Text,
    people_list,
    plain_text,
)
from bot.ops.config import Config
from bot.people.actor import Caller
from bot.people.directory import People, mention
from bot.runtime.clock import Clock
from storage.db import Database
from storage.errors import Duplicate
from storage.models import Person, Team
from storage.repositories import audit
from storage.repositories import digests as digest_rows
from storage.repositories import people as people_rows
from storage.repositories import teams as team_rows

ADMINS_ONLY = (
    "Only admins can manage teams. Ask one of your workspace admins (or an admin listed in "
    "app.yaml) to do it."
)


class TeamService:
    def __init__(self, db: Database, clock: Clock, config: Config, people: People) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.people = people

    # -- commands ---------------------------------------------------------------------------

    async def create(self, caller: Caller, command: CreateTeam) -> Reply:
        if not caller.is_admin:
            return Reply.refused(ADMINS_ONLY)
        try:
            lead = await self._person(caller, command.lead, "lead")
            async with self.db.read() as session:
                if await team_rows.find(session, caller.workspace_id, command.name):
                    raise Refused(
                        f"There is already a team called {command.name}. Change it with "
                        f"/team add|remove|lead {command.name} …, or pick another name."
                    )
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
        follows: list[Span] = (
            [Text(text=", following "), ChannelLink(channel_id=command.channel)]
            if command.channel
            else []
        )
        spans: list[Span] = [
            Text(text=f"✅ Team {command.name} created: lead "),
            mention(lead),
            Text(text=f", {len(member_ids)} members"),
            *follows,
            Text(text=f". Schedule its digest with /digest schedule team:{command.name}"),
        ]
        return _private(spans)

    async def change_members(self, caller: Caller, command: ChangeTeamMembers) -> Reply:
        if not caller.is_admin:
            return Reply.refused(ADMINS_ONLY)
        try:
            team = await self._team(caller, command.name)
            if team.channel_id:
                raise Refused(
                    f"{team.name} follows a channel, so its members are the channel's members: "
                    f"{'add them to' if command.action == 'add' else 'remove them from'} "
                    "the channel instead."
                )
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
        names = people_list([mention(person) for person in people])
        verb = "Added" if command.action == "add" else "Removed"
        where = "to" if command.action == "add" else "from"
        if not changed:
            state = "already in" if command.action == "add" else "not in"
            return _private(
                [
                    *names,
                    Text(
                        text=f" {'is' if len(people) == 1 else 'are'} "
                        f"{state} {team.name}; nothing changed."
                    ),
                ]
            )
        return _private(
            [
                Text(text=f"✅ {verb} "),
                *names,
                Text(text=f" {where} {team.name} ({total} members)."),
            ]
        )

    async def set_lead(self, caller: Caller, command: SetTeamLead) -> Reply:
        if not caller.is_admin:
            return Reply.refused(ADMINS_ONLY)
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
        return _private(
            [
                Text(text="✅ "),
                mention(lead),
                Text(text=f" now leads {team.name} and gets its digest."),
            ]
        )

    async def list(self, caller: Caller, _command: ListTeams) -> Reply:
        if not caller.is_admin:
            return Reply.refused(ADMINS_ONLY)
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
        if not found:
            return Reply.private(
                "No teams yet. Create one with " + "/team create NAME lead @LEAD members @a @b"
            )
        blocks: list = [Header(text=f"Teams ({len(found)})")]
        for team in found:
            assert team.id is not None
            spans: list[Span] = [Strong(text=team.name), Text(text=" — lead ")]
            lead = leads.get(team.lead_id or 0)
            spans.append(mention(lead) if lead else Text(text="(none)"))
            spans.append(Text(text=f", {counts.get(team.id, 0)} members"))
            if team.channel_id:
                spans += [
                    Text(text=" (follows "),
                    ChannelLink(channel_id=team.channel_id),
                    Text(text=")"),
                ]
            schedule = schedules.get(team.id)
            if schedule:
                spans.append(
                    Text(
                        text=f", digest #{schedule.id} {schedule.weekday} {schedule.time} "
                        f"{schedule.timezone}"
                    )
                )
            blocks.append(Section(spans=spans))
        text = "\n".join(plain_text(block.spans) for block in blocks[1:])
        return Reply(messages=[Message(audience=ReplyTo(), text=text, blocks=blocks)])

    async def show(self, caller: Caller, command: ShowTeam) -> Reply:
        if not caller.is_admin:
            return Reply.refused(ADMINS_ONLY)
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
        lead_spans: list[Span] = [mention(lead)] if lead else [Text(text="(none)")]
        blocks: list = [
            Header(text=f"Team {team.name}"),
            Section(spans=[Strong(text="Lead:"), Text(text=" "), *lead_spans]),
        ]
        if team.channel_id:
            blocks.append(
                Section(
                    spans=[
                        Strong(text="Follows:"),
                        Text(text=" "),
                        ChannelLink(channel_id=team.channel_id),
                    ]
                )
            )
        member_spans: list[Span] = people_list([mention(person) for person in members]) or [
            Text(text="(none)")
        ]
        blocks.append(
            Section(
                spans=[Strong(text=f"Members ({len(members)}):"), Text(text=" "), *member_spans]
            )
        )
        if schedule and schedule.active:
            blocks.append(
                Context(
                    spans=[
                        Text(
                            text=f"Digest #{schedule.id}: every {schedule.weekday} at "
                            f"{schedule.time} ({schedule.timezone})"
                        )
                    ]
                )
            )
        else:
            blocks.append(Context(spans=[Text(text="No digest scheduled.")]))
        text = "\n".join(
            plain_text(block.spans) if isinstance(block, Section | Context) else block.text
            for block in blocks
        )
        return Reply(messages=[Message(audience=ReplyTo(), text=text, blocks=blocks)])

    async def help(self, _caller: Caller, _command: TeamHelp) -> Reply:
        return help_reply()

    # -- membership -------------------------------------------------------------------------

    # -- lookups ----------------------------------------------------------------------------

    async def _team(self, caller: Caller, name: str) -> Team:
        async with self.db.read() as session:
            team = await team_rows.find(session, caller.workspace_id, name)
        if team is None:
            raise Refused(f"There is no team called {name}. See them all with /team list.")
        return team

    async def _person(self, caller: Caller, user_id: str, role: str) -> Person:
        person = await self.people.resolve(caller.workspace, caller.directory, user_id)
        if person is None:
            raise Refused(f"I couldn't find '{user_id}' in this workspace. Mention people with @.")
        if person.is_bot:
            raise Refused(f"{person.display_name or user_id} is a bot and can't be a team {role}.")
        if person.forgotten_at is not None:
            raise Refused(f"{user_id} is no longer part of this workspace.")
        return person


def _private(spans: Sequence[Span]) -> Reply:
    return Reply(
        messages=[
            Message(
                audience=ReplyTo(),
                text=plain_text(list(spans)),
                blocks=[Section(spans=list(spans))],
            )
        ]
    )


def help_reply() -> Reply:
    lines = [
        "/team create NAME lead @LEAD members @a @b … — a team with listed members",
        "/team create NAME lead @LEAD channel #CHANNEL — a team that follows a channel",
        "/team add NAME @person … / /team remove NAME @person … — change a listed team",
        "/team lead NAME @person — change who leads it (and gets its digest)",
        "/team list — all teams;  /team show NAME — one team's lead and members",
        "/team help — this message",
    ]
    note = "Teams are managed by admins. Leads get a weekly digest: see /digest help."
    blocks = [
        Header(text="Teams — how to set them up"),
        *(Section(spans=[Text(text=line)]) for line in lines),
        Context(spans=[Text(text=note)]),
    ]
    return Reply(
        messages=[Message(audience=ReplyTo(), text="\n".join([*lines, note]), blocks=blocks)]
    )
