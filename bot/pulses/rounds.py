"""The scheduled work of pulses, run on every scheduler tick: fire, remind, close.

Every step is idempotent in the database, so several processes may tick together and a
process may stop at any point: a round is created by the transaction that also moves its
schedule on (compare-and-set) and inserts it under UNIQUE (schedule_id, scheduled_for), with
its deliveries and outbox rows; `reminded` and `closed` flip once, in the transaction that
queues what they cause.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.messages import Block
from bot.ops.config import Config
from bot.ops.metrics import SCHEDULER_FIRINGS
from bot.ports import Platform
from bot.pulses import audience, messages, rules
from bot.pulses.rules import RoundResult, summarise
from bot.runtime import outbox
from bot.runtime.clock import Clock
from storage.db import Database
from storage.models import PulseRound, PulseSchedule
from storage.repositories import outbox as outbox_rows
from storage.repositories import people as people_rows
from storage.repositories import pulses as repo
from storage.repositories import teams as team_rows
from storage.repositories import workspaces
from storage.unit import Unit

log = logging.getLogger(__name__)
TREND_ROUNDS = 4


class Rounds:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: Config,
        platforms: Mapping[str, Platform],
        on_enqueue: Callable[[], None],
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.platforms = platforms
        self.on_enqueue = on_enqueue

    async def tick(self, now: datetime) -> None:
        await self.fire_due(now)
        await self.remind_due(now)
        await self.close_due(now)

    # -- firing ------------------------------------------------------------------------------

    async def fire_due(self, now: datetime) -> None:
        async with self.db.read() as session:
            due = await repo.due_schedules(session, now)
        for schedule in due:
            await self.fire(schedule, now)

    async def fire(
        self, schedule: PulseSchedule, now: datetime, *, members: list[str] | None = None
    ) -> PulseRound | None:
        """Create this firing's round, its deliveries and its questions; None if another
        process did, or if the firing was missed for longer than its open window. `members`:
        the audience if the caller resolved it just now (a `/pulse now`)."""
        assert schedule.id is not None and schedule.next_fire_at is not None
        scheduled_for, next_at = rules.firing(
            schedule.next_fire_at, schedule.cron, schedule.timezone, schedule.open_minutes, now
        )
        status = repo.ACTIVE if next_at is not None else repo.DONE
        if scheduled_for is None:
            async with self.db.write() as session:
                await repo.advance(
                    session,
                    schedule.id,
                    expected=schedule.next_fire_at,
                    next_fire_at=next_at,
                    status=status,
                )
            log.info("pulse schedule %s: missed firing is past its window; skipped", schedule.id)
            return None
        async with self.db.read() as session:
            workspace = await workspaces.get(session, schedule.workspace_id)
        assert workspace is not None
        platform = self.platforms.get(workspace.platform)
        if platform is None:
            return None  # a process that serves this platform will fire it
        directory = platform.directory(workspace.external_id)
        user_ids = (
            members
            if members is not None
            else await audience.members(
                self.db, directory, schedule.workspace_id, schedule.audience
            )
        )
        times = rules.round_times(
            scheduled_for,
            schedule.open_minutes,
            now,
            reminder=self.config.pulses.reminder,
            hours_before_close=self.config.pulses.reminder_hours_before_close,
        )
        async with self.db.write() as session:
            moved = await repo.advance(
                session,
                schedule.id,
                expected=schedule.next_fire_at,
                next_fire_at=next_at,
                status=status,
            )
            if not moved:
                return None
            round_ = await repo.create_round(
                session,
                {
                    "schedule_id": schedule.id,
                    "workspace_id": schedule.workspace_id,
                    "team_id": schedule.audience.get("team_id"),
                    "subject": schedule.subject,
                    "scheduled_for": scheduled_for,
                    "closes_at": times.closes_at,
                    "remind_at": times.remind_at,
                    "reminded": False,
                    "closed": False,
                    "invited": len(user_ids),
                },
            )
            if round_ is None:
                return None
            assert round_.id is not None
            people = await repo.ensure_people(session, schedule.workspace_id, user_ids, now)
            await repo.add_deliveries(session, round_.id, [people[u][0] for u in user_ids])
            question = messages.question(
                self.config,
                round_.id,
                schedule.subject,
                times.closes_at,
                schedule.timezone,
                reminder=False,
            )
            items = [
                (
                    rules.ask_key(round_.id, user),
                    messages.addressed(question, user),
                    self._ask_at(now, people[user][1]),
                )
                for user in user_ids
            ]
            await outbox.enqueue_many(
                session,
                workspace_id=schedule.workspace_id,
                platform=workspace.platform,
                items=items,
                now=now,
            )
        SCHEDULER_FIRINGS.labels("pulse_round").inc()
        log.info(
            "pulse round %s fired for schedule %s: %d recipients",
            round_.id,
            schedule.id,
            len(user_ids),
        )
        self.on_enqueue()
        return round_

    def _ask_at(self, now: datetime, zone_name: str | None) -> datetime:
        return rules.ask_at(now, zone_name, self.config.default_timezone, self.config.quiet_hours)

    # -- reminders ---------------------------------------------------------------------------

    async def remind_due(self, now: datetime) -> None:
        async with self.db.read() as session:
            due = await repo.due_reminders(session, now)
        for round_ in due:
            assert round_.id is not None
            async with self.db.write() as session:
                if not await repo.claim_flag(session, round_.id, "reminded"):
                    continue
                schedule = await repo.schedule(session, round_.workspace_id, round_.schedule_id)
                workspace = await workspaces.get(session, round_.workspace_id)
                assert schedule is not None and workspace is not None
                reminder = messages.question(
                    self.config,
                    round_.id,
                    round_.subject,
                    round_.closes_at,
                    schedule.timezone,
                    reminder=True,
                )
                items = []
                for user, zone in await repo.unanswered(session, round_.id):
                    not_before = rules.remind_at(
                        now,
                        zone,
                        self.config.default_timezone,
                        self.config.quiet_hours,
                        round_.closes_at,
                    )
                    if not_before is not None:
                        items.append(
                            (
                                rules.remind_key(round_.id, user),
                                messages.addressed(reminder, user),
                                not_before,
                            )
                        )
                await outbox.enqueue_many(
                    session,
                    workspace_id=round_.workspace_id,
                    platform=workspace.platform,
                    items=items,
                    now=now,
                )
            SCHEDULER_FIRINGS.labels("reminder").inc()
            self.on_enqueue()

    # -- closing -----------------------------------------------------------------------------

    async def close_due(self, now: datetime) -> None:
        async with self.db.read() as session:
            due = await repo.due_closes(session, now)
        for round_ in due:
            assert round_.id is not None
            async with self.db.write() as session:
                if not await repo.claim_flag(session, round_.id, "closed"):
                    continue
                # Questions and reminders still waiting would only reach people too late.
                await outbox_rows.cancel_pending_prefix(session, rules.round_prefix(round_.id))
                round_.closed = True
                text, blocks = await self.results(session, round_)
                workspace = await workspaces.get(session, round_.workspace_id)
                assert workspace is not None
                items = [
                    (
                        rules.results_key(round_.id, user),
                        messages.results_for(user, text, blocks).model_dump(mode="json"),
                        now,
                    )
                    for user in await self.result_readers(session, round_)
                ]
                await outbox.enqueue_many(
                    session,
                    workspace_id=round_.workspace_id,
                    platform=workspace.platform,
                    items=items,
                    now=now,
                )
            SCHEDULER_FIRINGS.labels("close").inc()
            self.on_enqueue()

    async def result_readers(self, session: Unit, round_: PulseRound) -> list[str]:
        """The schedule's owner, and the team's lead for a team audience."""
        schedule = await repo.schedule(session, round_.workspace_id, round_.schedule_id)
        assert schedule is not None
        team = await team_rows.get(session, round_.team_id) if round_.team_id is not None else None
        lead_id = team.lead_id if team is not None else None
        users: list[str] = []
        for person_id in rules.result_reader_ids(schedule.owner_id, lead_id):
            person = await people_rows.get(session, person_id)
            if person is not None and person.forgotten_at is None:
                users.append(person.external_id)
        return users

    async def result(self, session: Unit, round_: PulseRound) -> RoundResult:
        assert round_.id is not None
        answers = await repo.responses(session, round_.id)
        return summarise(round_.invited, answers, self.config.pulses.min_responses)

    async def results(self, session: Unit, round_: PulseRound) -> tuple[str, list[Block]]:
        schedule = await repo.schedule(session, round_.workspace_id, round_.schedule_id)
        earlier = [
            await self.result(session, previous)
            for previous in await repo.rounds_of_schedule(
                session, round_.schedule_id, round_.scheduled_for, TREND_ROUNDS
            )
        ]
        assert round_.id is not None
        return messages.results_blocks(
            self.config,
            round_.id,
            round_.subject,
            await self.result(session, round_),
            earlier,
            closed=round_.closed,
            closes_at=round_.closes_at,
            zone=schedule.timezone,
        )
