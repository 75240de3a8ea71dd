"""Builds a person's home from what is stored: kudos from the recognitions, team briefs from the
digests' aggregates, pulses through the pulses' published glance (which needs the key). It
only reads: showing a home never writes anything about the person."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.home import messages, rules
from bot.home.messages import HomeData, Received, TeamBrief
from bot.messages import Chart, Mention, Message, Refused, Reply
from bot.ops.config import Config
from bot.people.actor import Caller, zone_of
from bot.pulses.contract import NoPulses, PulseGlance, PulseSummaries, easy_value_map
from bot.runtime.clock import Clock
from storage.db import Database
from storage.models import Team
from storage.repositories import digests as digest_rows
from storage.repositories import recognitions
from storage.repositories import teams as team_rows
from storage.unit import Unit


class HomeService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: Config,
        pulses: PulseGlance,
        summaries: PulseSummaries | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.pulses = pulses
        # A lead's teams' rounds, for their maps: read through the pulses' published contract.
        self.summaries: PulseSummaries = summaries or NoPulses()

    async def show(self, caller: Caller, _command: object = None) -> Reply:
        return Reply(messages=[await self.home(caller)])

    async def home(self, caller: Caller) -> Message:
        now = self.clock.now()
        zone = zone_of(caller.person, self.config)
        person_id = caller.person_id
        week, month = rules.week_start(now, zone), rules.month_start(now, zone)
        async with self.db.read() as session:
            received_week = await recognitions.received_count(session, person_id, week)
            received_month = await recognitions.received_count(session, person_id, month)
            given_week = await recognitions.given_count(session, person_id, week)
            given_month = await recognitions.given_count(session, person_id, month)
            used = await recognitions.awards_on_day(session, person_id, now.astimezone(zone).date())
            latest = await recognitions.latest_received(session, person_id, rules.LATEST_KUDOS)
            led = await team_rows.led_by(session, caller.workspace_id, person_id)
            teams = await self._team_briefs(session, led, now, zone.key) if led else None
        allowance = self.config.kudos.allowance
        resets = rules.allowance_resets_at(now, zone)
        data = HomeData(
            name=caller.person.display_name,
            received_week=received_week,
            received_month=received_month,
            given_week=given_week,
            given_month=given_month,
            allowance=allowance,
            left_today=max(0, allowance - used),
            resets=f"{rules.until(now, resets)} (midnight, {zone.key})",
            latest=[
                Received(
                    giver=Mention(user_id=giver.external_id, name=giver.display_name),
                    reason=recognition.reason,
                    when=messages.when(recognition.created_at, now),
                )
                for giver, recognition in latest
            ],
            waiting=await self.pulses.waiting(
                caller.workspace_id, person_id, caller.actor.user_id, now=now
            ),
            zone=zone.key,
            teams=teams,
        )
        if caller.is_admin:
            data.schedules, data.open_rounds = await self.pulses.admin_view(caller.workspace_id)

        def local(moment: datetime) -> str:
            return f"{moment.astimezone(zone):%a %d %b %H:%M}"

        return messages.home(data, local)

    async def _team_briefs(
        self, session: Unit, led: list[Team], now: datetime, zone: str
    ) -> list[TeamBrief]:
        """This week so far for each team the person leads (the digest's own aggregates)."""
        start = rules.week_start(now, ZoneInfo(zone))
        window = digest_rows.Window(
            end=now,
            this_start=start,
            last_start=start - timedelta(days=7),
            quiet_since=now - timedelta(days=self.config.digests.quiet_member_days),
            zone=zone,
        )
        shown, _more = rules.first(led, rules.TEAMS)
        facts = await digest_rows.kudos_facts(
            session,
            [team.id for team in shown if team.id is not None],
            window,
        )
        maps = {team.id: await self._map(team, now) for team in shown}
        briefs = []
        for team in led:
            found = facts.get(team.id or 0)
            briefs.append(
                TeamBrief(
                    name=team.name,
                    members=found.member_count if found else 0,
                    received=found.received_this_week if found else 0,
                    given=found.given_this_week if found else 0,
                    quiet=len(found.quiet) if found else 0,
                    chart=maps.get(team.id),
                )
            )
        return briefs

    async def _map(self, team: Team, now: datetime) -> Chart | None:
        """The team's EASY × VALUE map from the same gated summaries the digest uses: a round
        the visibility gate hid is no point, and a team with nothing shown has no map."""
        if team.id is None:
            return None
        rounds = await self.summaries.for_team(
            team.workspace_id, team.id, until=now, limit=rules.MAP_ROUNDS
        )
        return easy_value_map(team.name, rounds)

    # -- buttons -------------------------------------------------------------------------

    async def answer(
        self,
        caller: Caller,
        values: Mapping[str, object],
        _context: Mapping[str, str],
        _key: str | None,
    ) -> Reply:
        """'Answer' on a waiting pulse: its question, answered through the pulses' own form."""
        raw = str(values.get("value", "")).strip()
        if not raw.isdigit():
            return Reply.refused("That pulse is no longer available.")
        try:
            return Reply(
                messages=[
                    await self.pulses.question(caller.workspace_id, caller.person_id, int(raw))
                ]
            )
        except Refused as refusal:
            return refusal.reply()
