"""What a person's home shows of pulses: the rounds waiting for their answer, and for admins
the schedules and open rounds. Nothing here writes: whether someone answered is worked out in
memory with the pulse key (as reminders do) and never stored (docs/PRIVACY.md)."""

from __future__ import annotations

from datetime import datetime

from bot.messages import Form, Message, Refused, ReplyTo
from bot.ops.config import Config
from bot.pulses import audience, messages, rules
from bot.pulses.ballot import BallotBox
from bot.pulses.contract import OpenRoundLine, ScheduleLine, WaitingPulse
from bot.pulses.rounds import Rounds, identity
from bot.runtime.clock import Clock
from storage.db import Database
from storage.repositories import pulses as repo
from storage.repositories import workspaces

# Schedules an admin still acts on: active and paused ones.
_LIVE = (repo.ACTIVE, repo.PAUSED)


class StoredPulseGlance:
    def __init__(
        self, db: Database, clock: Clock, config: Config, rounds: Rounds, box: BallotBox
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.rounds = rounds
        self.box = box

    async def waiting(
        self, workspace_id: int, person_id: int, user_id: str, *, now: datetime
    ) -> list[WaitingPulse]:
        found: list[WaitingPulse] = []
        async with self.db.read() as session:
            workspace = await workspaces.get(session, workspace_id)
            assert workspace is not None
            for round_ in await repo.open_rounds(session, workspace_id):
                assert round_.id is not None
                if not rules.accepts_answers(round_.closed, round_.closes_at, now):
                    continue
                if await repo.delivery(session, round_.id, person_id) is None:
                    continue
                tag = self.box.tag(round_.id, identity(workspace, user_id))
                bucket = self.box.bucket_of(tag)
                sealed = dict(await repo.ballots(session, round_.id)).get(bucket)
                if tag in self.box.open(round_.id, bucket, sealed):
                    continue
                found.append(WaitingPulse(round_.id, round_.subject, round_.closes_at))
        return found

    async def admin_view(self, workspace_id: int) -> tuple[list[ScheduleLine], list[OpenRoundLine]]:
        async with self.db.read() as session:
            schedules = [
                ScheduleLine(
                    schedule_id=schedule.id or 0,
                    subject=schedule.subject,
                    audience=audience.describe(schedule.audience),
                    status=schedule.status,
                    next_fire_at=schedule.next_fire_at,
                    timezone=schedule.timezone,
                )
                for schedule in await repo.schedules(session, workspace_id)
                if schedule.status in _LIVE and schedule.cron is not None
            ]
            running = [
                OpenRoundLine(
                    round_id=round_.id or 0,
                    subject=round_.subject,
                    closes_at=round_.closes_at,
                    progress=await self.rounds.progress(session, round_),
                )
                for round_ in await repo.open_rounds(session, workspace_id)
            ]
        return schedules, running

    async def question(self, workspace_id: int, person_id: int, round_id: int) -> Message:
        """The round's question for someone asked in it, as a form of its own (a modal where
        the platform has them): answered through the one anonymous answer path."""
        async with self.db.read() as session:
            round_ = await repo.round_by_id(session, workspace_id, round_id)
            asked = (
                round_ is not None and await repo.delivery(session, round_id, person_id) is not None
            )
            if round_ is None or not asked:
                raise Refused(
                    f"You weren't asked in pulse {round_id}, so there is nothing to answer."
                )
            if not rules.accepts_answers(round_.closed, round_.closes_at, self.clock.now()):
                raise Refused(rules.CLOSED)
            schedule = await repo.schedule(session, workspace_id, round_.schedule_id)
        zone = schedule.timezone if schedule else self.config.default_timezone
        asked_message = Message.model_validate(
            messages.question(
                self.config, round_id, round_.subject, round_.closes_at, zone, reminder=False
            )
        )
        blocks = [
            block.model_copy(update={"modal": True}) if isinstance(block, Form) else block
            for block in asked_message.blocks
        ]
        return asked_message.model_copy(update={"audience": ReplyTo(), "blocks": blocks})
