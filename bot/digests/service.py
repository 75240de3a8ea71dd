"""Weekly digests for team leads: schedules, `/digest now`, and the scheduled firing.

A firing is idempotent across processes: every process that finds a schedule due builds the
digest, then in ONE transaction inserts the run keyed UNIQUE (team, period) — insert-ignore,
so only one process succeeds — and, only if it did, enqueues the DM to the lead in the outbox.
The outbox delivers it later and resumes after a crash. Teams due at the same moment in the
same zone are built together, so the aggregates run once per batch, not once per team.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.digests import charts, messages, rules
from bot.digests.commands import (
    CancelDigest,
    DigestHelp,
    DigestNow,
    EmptyWeeks,
    ListDigests,
    ScheduleDigest,
)
from bot.digests.messages import TeamDigest, render_digest
from bot.digests.rules import after_quiet_hours, next_fire, period_key, window_ending
from bot.host import Platform
from bot.messages import Chart, Refused, Reply, ReplyTo, ToPerson
from bot.ops import logcontext
from bot.ops.config import Config
from bot.ops.metrics import SCHEDULER_FIRINGS
from bot.people.actor import Caller, zone_of
from bot.people.directory import People
from bot.pulses.contract import NoPulses, PulseSummaries
from bot.runtime import outbox
from bot.runtime.clock import Clock
from storage.db import Database
from storage.models import DigestSchedule, Team
from storage.repositories import audit, workspaces
from storage.repositories import digests as rows
from storage.repositories import people as people_rows
from storage.repositories import settings as settings_rows
from storage.repositories import teams as team_rows
from storage.repositories.digests import Member
from storage.unit import Unit

log = logging.getLogger("bot.digests")  # name kept: operators alert on it

PULSE_ROUNDS = 8


class DigestService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: Config,
        people: People,
        platforms: Mapping[str, Platform],
        on_enqueue: Callable[[], None] = lambda: None,
        pulse_summaries: PulseSummaries | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.people = people
        self.platforms = platforms
        self.on_enqueue = on_enqueue
        # Read through the pulses' published contract; without pulses a digest has no pulse part.
        self.pulse_summaries: PulseSummaries = pulse_summaries or NoPulses()

    # -- building ---------------------------------------------------------------------------

    async def build(self, teams: Sequence[Team], end: datetime, zone: ZoneInfo) -> list[TeamDigest]:
        """Digests of `teams` for the week ending at `end`, weeks counted in `zone`."""
        window = window_ending(end, zone, self.config.digests.quiet_member_days)
        team_ids = [team.id for team in teams if team.id is not None]
        starts = charts.week_starts(window.this_start, window.zone)
        async with self.db.read(slow=True) as session:  # aggregates over every team due
            facts = await rows.kudos_facts(session, team_ids, _query_window(window))
            weekly = await rows.kudos_by_week(session, team_ids, starts, window.end)
            leads = await people_rows.by_ids(session, [t.lead_id for t in teams if t.lead_id])
        digests = []
        for team in teams:
            assert team.id is not None
            lead = leads.get(team.lead_id or 0)
            rounds = await self.pulse_summaries.for_team(
                team.workspace_id, team.id, until=window.end, limit=PULSE_ROUNDS
            )
            lead_zone = zone_of(lead, self.config) if lead else zone
            digests.append(
                TeamDigest(
                    lead_zone=lead_zone,
                    team_id=team.id,
                    team_name=team.name,
                    workspace_id=team.workspace_id,
                    lead=Member(lead.external_id, lead.display_name or lead.external_id)
                    if lead
                    else Member("", "(no lead)"),
                    window=window,
                    kudos=facts[team.id],
                    rounds=rounds,
                    quiet_member_days=self.config.digests.quiet_member_days,
                    charts=charts.team_charts(
                        team.name, rounds, starts, weekly[team.id], window.zone
                    ),
                )
            )
        return digests

    async def team_charts(self, team: Team, now: datetime, zone: ZoneInfo) -> list[Chart]:
        """A team's pictures for the week ending `now` (weeks counted in `zone`): the pulse map
        and trend as the visibility gate allows, and kudos by week. Neutral `Chart` blocks; put
        them in a message and the outbox draws them on delivery."""
        (digest,) = await self.build([team], now, zone)
        return digest.charts

    # -- the scheduler's work ---------------------------------------------------------------

    async def tick(self, now: datetime) -> None:
        async with self.db.read() as session:
            due = await rows.due_schedules(session, now)
        batches: dict[tuple[datetime, str], list[DigestSchedule]] = defaultdict(list)
        for schedule in due:
            zone = ZoneInfo(schedule.timezone)
            fired = schedule.next_fire_at
            async with self.db.read() as session:
                done = await rows.run_exists(session, schedule.team_id, period_key(fired, zone))
            decision = rules.firing(fired, now, already_sent=done)
            if decision != "send":
                if decision == "missed":
                    log.warning("digest schedule %s missed %s; skipped", schedule.id, fired)
                await self._advance(schedule, now)
                continue
            batches[(fired, schedule.timezone)].append(schedule)
        for (fired, zone_name), schedules in batches.items():
            with logcontext.bind(job="digest", scheduled_for=fired.isoformat()):
                await self._fire(schedules, fired, ZoneInfo(zone_name), now)

    async def _fire(
        self, schedules: list[DigestSchedule], fired: datetime, zone: ZoneInfo, now: datetime
    ) -> None:
        async with self.db.read() as session:
            found = await team_rows.by_ids(session, [schedule.team_id for schedule in schedules])
        for team in found:
            if team.channel_id:
                await self._refresh_channel_team(team)
        by_team = {schedule.team_id: schedule for schedule in schedules}
        for digest in await self.build(found, fired, zone):
            await self._deliver(digest, by_team[digest.team_id], fired, zone, now)

    async def _deliver(
        self,
        digest: TeamDigest,
        schedule: DigestSchedule,
        fired: datetime,
        zone: ZoneInfo,
        now: datetime,
    ) -> None:
        period = period_key(fired, zone)
        key = rules.outbox_key(digest.team_id, period)
        sent = False
        async with self.db.write() as session:
            workspace = await workspaces.get(session, digest.workspace_id)
            if await self._skips(session, digest):
                log.info("team %s had an empty week; its digest is skipped", digest.team_id)
            elif digest.lead.external_id and workspace is not None:
                message = render_digest(
                    digest, self.config, ToPerson(user_id=digest.lead.external_id)
                )
                claimed = await rows.claim_run(
                    session,
                    workspace_id=digest.workspace_id,
                    team_id=digest.team_id,
                    period=period,
                    scheduled_for=fired,
                    outbox_key=key,
                    now=now,
                )
                if claimed:
                    sent = await outbox.enqueue(
                        session,
                        workspace_id=digest.workspace_id,
                        platform=workspace.platform,
                        key=key,
                        message=message,
                        now=now,
                        not_before=after_quiet_hours(
                            now, digest.lead_zone, self.config.quiet_hours
                        ),
                    )
            else:
                log.warning("team %s has no lead to send its digest to", digest.team_id)
            await rows.advance_schedule(
                session, schedule.id or 0, fired, self._following(schedule, now)
            )
        if sent:
            SCHEDULER_FIRINGS.labels("digest").inc()
            self.on_enqueue()

    def _following(self, schedule: DigestSchedule, now: datetime) -> datetime:
        zone = ZoneInfo(schedule.timezone)
        return rules.following_fire(
            schedule.next_fire_at, now, schedule.weekday, schedule.time, zone
        )

    async def _advance(self, schedule: DigestSchedule, now: datetime) -> None:
        async with self.db.write() as session:
            await rows.advance_schedule(
                session, schedule.id or 0, schedule.next_fire_at, self._following(schedule, now)
            )

    async def _refresh_channel_team(self, team: Team) -> None:
        async with self.db.read() as session:
            workspace = await workspaces.get(session, team.workspace_id)
        platform = self.platforms.get(workspace.platform) if workspace else None
        if workspace is None or platform is None:
            return  # that platform is not running here: use the membership last seen
        try:
            directory = platform.directory(workspace.external_id)
            await self.people.refresh_channel_team(workspace, directory, team)
        except Exception:
            log.exception("could not refresh the members of team %s; using the last known", team.id)

    async def _skips(self, session: Unit, digest: TeamDigest) -> bool:
        chosen = await settings_rows.find(session, rules.empty_week_key(digest.team_id))
        skip_empty = self.config.digests.skip_empty_weeks if chosen is None else chosen == "skip"
        facts = digest.kudos
        return rules.skips_week(
            facts.received_this_week,
            facts.given_this_week,
            len(digest.rounds_this_week),
            len(facts.quiet),
            skip_empty=skip_empty,
        )

    # -- commands ---------------------------------------------------------------------------

    async def empty_weeks(self, caller: Caller, command: EmptyWeeks) -> Reply:
        try:
            team = await self._team_for_now(caller, command.team)
        except Refused as refusal:
            return refusal.reply()
        if not caller.is_admin and team.lead_id != caller.person_id:
            return Reply.refused("Only admins and the team's lead can change its digest.")
        assert team.id is not None
        async with self.db.write() as session:
            await settings_rows.put(
                session, rules.empty_week_key(team.id), "send" if command.send else "skip"
            )
        if command.send:
            return Reply.private(
                f"✅ team:{team.name} gets its weekly digest every week, even an empty one."
            )
        return Reply.private(
            f"✅ team:{team.name} gets no digest for an empty week (no kudos, no pulse round "
            "and no quiet member)."
        )

    # -- commands ---------------------------------------------------------------------------

    async def schedule(self, caller: Caller, command: ScheduleDigest) -> Reply:
        if not caller.is_admin:
            return Reply.refused(
                "Only admins can schedule digests. A team lead can ask for one any time with "
                "/digest now."
            )
        try:
            team = await self._team(caller, command.team)
        except Refused as refusal:
            return refusal.reply()
        assert team.id is not None
        defaults = self.config.digests
        weekday = command.weekday or defaults.weekday
        clock_time = command.time or defaults.time
        async with self.db.read() as session:
            lead = await people_rows.get(session, team.lead_id) if team.lead_id else None
        zone_name = command.timezone or (
            zone_of(lead, self.config).key if lead else self.config.default_timezone
        )
        zone = ZoneInfo(zone_name)
        now = self.clock.now()
        first = next_fire(now, weekday, clock_time, zone)
        async with self.db.write() as session:
            saved = await rows.save_schedule(
                session,
                workspace_id=caller.workspace_id,
                team_id=team.id,
                weekday=weekday,
                time=clock_time,
                timezone=zone_name,
                next_fire_at=first,
                created_by=caller.person.external_id,
                now=now,
            )
            await audit.record(
                session,
                workspace_id=caller.workspace_id,
                actor=caller.person.external_id,
                action="digest.schedule",
                detail=f"#{saved.id} {team.name}: {weekday} {clock_time} {zone_name}",
                now=now,
            )
        return messages.scheduled(saved, team.name, lead)

    async def now(self, caller: Caller, command: DigestNow) -> Reply:
        """Answered privately to whoever asked: a lead reads it at once where they typed, and
        an admin looking at a team's week does not DM its lead unasked."""
        try:
            team = await self._team_for_now(caller, command.team)
        except Refused as refusal:
            return refusal.reply()
        assert team.id is not None
        if team.channel_id:
            await self.people.refresh_channel_team(caller.workspace, caller.directory, team)
        async with self.db.read() as session:
            schedule = await rows.schedule_for_team(session, team.id)
            lead = await people_rows.get(session, team.lead_id) if team.lead_id else None
        active_zone = schedule.timezone if schedule is not None and schedule.active else None
        zone = rules.week_zone(active_zone, zone_of(lead or caller.person, self.config))
        (digest,) = await self.build([team], self.clock.now(), zone)
        # Answered now, so without pictures: drawing is no work for a reply someone waits on
        # (the scheduled digest, delivered by the outbox, carries them).
        return Reply(messages=[render_digest(digest, self.config, ReplyTo(), with_charts=False)])

    async def list(self, caller: Caller, _command: ListDigests) -> Reply:
        async with self.db.read() as session:
            led = await team_rows.led_by(session, caller.workspace_id, caller.person_id)
            if not caller.is_admin and not led:
                return Reply.refused(
                    "Digest schedules are for admins and team leads. Ask an admin to schedule "
                    "one for your team."
                )
            team_ids = None if caller.is_admin else [team.id for team in led if team.id]
            found = await rows.active_schedules(session, caller.workspace_id, team_ids)
            leads = await people_rows.by_ids(session, [t.lead_id for _, t in found if t.lead_id])
        return messages.schedule_list(found, leads)

    async def cancel(self, caller: Caller, command: CancelDigest) -> Reply:
        if not caller.is_admin:
            return Reply.refused("Only admins can cancel digest schedules.")
        now = self.clock.now()
        async with self.db.write() as session:
            schedule = await rows.get_schedule(session, caller.workspace_id, command.schedule_id)
            team = await team_rows.get(session, schedule.team_id) if schedule else None
            if schedule is None or team is None or not schedule.active:
                return Reply.refused(
                    f"There is no digest schedule #{command.schedule_id}. See them with "
                    "/digest list."
                )
            await rows.cancel_schedule(session, command.schedule_id)
            await audit.record(
                session,
                workspace_id=caller.workspace_id,
                actor=caller.person.external_id,
                action="digest.cancel",
                detail=f"#{command.schedule_id} {team.name}",
                now=now,
            )
        return messages.cancelled(command.schedule_id, team.name)

    async def help(self, _caller: Caller, _command: DigestHelp) -> Reply:
        return messages.help_reply(self.config.digests)

    # -- lookups ----------------------------------------------------------------------------

    async def _team(self, caller: Caller, name: str) -> Team:
        async with self.db.read() as session:
            team = await team_rows.find(session, caller.workspace_id, name)
        if team is None:
            raise Refused(f"There is no team called {name}. See them with /team list.")
        return team

    async def _team_for_now(self, caller: Caller, name: str | None) -> Team:
        if name is not None:
            team = await self._team(caller, name)
            is_lead = team.lead_id == caller.person_id
            rules.check_may_read(name, is_admin=caller.is_admin, is_lead=is_lead)
            return team
        async with self.db.read() as session:
            led = await team_rows.led_by(session, caller.workspace_id, caller.person_id)
        return rules.team_for_now(led, is_admin=caller.is_admin)


def _query_window(window: rules.Window) -> rows.Window:
    """The rules' window as the digest queries take it (storage has its own types)."""
    return rows.Window(
        end=window.end,
        this_start=window.this_start,
        last_start=window.last_start,
        quiet_since=window.quiet_since,
        zone=window.zone,
    )
