"""The scheduled work of pulses, run on every scheduler tick: fire, remind, close.

Every step is idempotent in the database, so several processes may tick together and a
process may stop at any point: a round is created by the transaction that also moves its
schedule on (compare-and-set) and inserts it under UNIQUE (schedule_id, scheduled_for), with
its deliveries and outbox rows; `reminded` and `closed` flip once, in the transaction that
queues what they cause.

Answers are sealed in ballot buckets while a round is open (bot/pulses/ballot.py); closing
turns them into a tally and shuffled comments, applies the visibility gate once, and deletes
the buckets (docs/PRIVACY.md).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.host import Platform
from bot.messages import Block, Chart
from bot.ops.config import Config
from bot.ops.keys import FingerprintCheck, KeyProblem
from bot.ops.metrics import SCHEDULER_FIRINGS
from bot.pulses import audience, messages, rules, visibility
from bot.pulses.ballot import BUCKETS, Answer, BallotBox
from bot.pulses.contract import pulse_charts
from bot.pulses.rules import RoundResult, add, from_tally, tally
from bot.pulses.summaries import StoredPulseSummaries, summary_of
from bot.runtime import outbox
from bot.runtime.clock import Clock
from storage.db import Database
from storage.models import PulseRound, PulseSchedule, Workspace
from storage.repositories import outbox as outbox_rows
from storage.repositories import people as people_rows
from storage.repositories import pulses as repo
from storage.repositories import teams as team_rows
from storage.repositories import workspaces
from storage.unit import Unit

# Rounds of a team drawn beside a result: as many as a digest shows.
CHART_ROUNDS = 8
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
        box: BallotBox,
        key_check: FingerprintCheck,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.platforms = platforms
        self.on_enqueue = on_enqueue
        self.box = box
        self.key_check = key_check

    async def tick(self, now: datetime) -> None:
        try:
            await self.key_check.ensure()
        except KeyProblem as problem:
            log.error("pulses paused in this process: %s", problem)
            return
        await self.fire_due(now)
        await self.remind_due(now)
        await self.close_due(now)
        await self.judge_pending()

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
        # Before anyone can answer: the first round records the key's fingerprint, so no
        # answer is ever the request that writes it.
        await self.key_check.ensure()
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
            await repo.add_ballots(session, round_.id, BUCKETS)
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
                for user, zone in await self._unanswered(session, round_, workspace):
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

    async def _unanswered(
        self, session: Unit, round_: PulseRound, workspace: Workspace
    ) -> list[tuple[str, str | None]]:
        """(user id, zone) of everyone asked whose tag is in no bucket: worked out here, with
        the key, and never written down."""
        assert round_.id is not None
        answered: set[str] = set()
        for bucket, sealed in await repo.ballots(session, round_.id):
            answered |= self.box.open(round_.id, bucket, sealed).keys()
        return [
            (person.user_id, person.timezone)
            for person in await repo.asked(session, round_.id)
            if self.box.tag(round_.id, identity(workspace, person.user_id)) not in answered
        ]

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
                await self._seal_result(session, round_)
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
            # The deleted buckets' old versions go too (docs/PRIVACY.md).
            await self.db.compact(repo.BALLOT_TABLE)
            SCHEDULER_FIRINGS.labels("close").inc()
            self.on_enqueue()

    async def cancel(self, session: Unit, round_id: int) -> bool:
        """End an open round without results, in the caller's transaction: its sealed answers
        are deleted unread, questions and reminders still queued are not sent, and it stays
        out of every digest and trend. False when it had already closed."""
        if not await repo.claim_flag(session, round_id, "closed"):
            return False
        await outbox_rows.cancel_pending_prefix(session, rules.round_prefix(round_id))
        await repo.delete_ballots(session, round_id)
        await repo.save_closed(
            session,
            round_id,
            responded=0,
            tally=None,
            scores_shown=False,
            comments_shown=False,
            hidden_reason=repo.CANCELLED_ROUND,
            comments=[],
        )
        return True

    async def _seal_result(self, session: Unit, round_: PulseRound) -> None:
        """Open the buckets, tally the answers, shuffle the comments, judge visibility once,
        delete the buckets — all in the closing transaction."""
        assert round_.id is not None
        answers: list[Answer] = []
        for bucket, sealed in await repo.ballots(session, round_.id):
            answers.extend(self.box.open(round_.id, bucket, sealed).values())
        # A round tallied by the upgrade to 0005 may already hold answers and comments.
        grid = add(round_.tally, tally((a.easy, a.value) for a in answers))
        comments = [a.comment for a in answers if a.comment]
        comments += await repo.comments(session, round_.id)
        random.SystemRandom().shuffle(comments)
        verdict = await self._judge(session, round_, sum(map(sum, grid)))
        await repo.save_closed(
            session,
            round_.id,
            responded=sum(map(sum, grid)),
            # A hidden round keeps no tally: nothing to subtract from another round later.
            tally=grid if verdict.scores else None,
            scores_shown=verdict.scores,
            comments_shown=verdict.comments,
            hidden_reason=verdict.reason,
            comments=comments if verdict.comments else [],
        )
        await repo.delete_ballots(session, round_.id)
        round_.tally = grid if verdict.scores else None
        round_.responded = sum(map(sum, grid))
        round_.scores_shown, round_.comments_shown = verdict.scores, verdict.comments
        round_.hidden_reason = verdict.reason

    async def _judge(self, session: Unit, round_: PulseRound, responded: int) -> visibility.Verdict:
        """The visibility gate against every round of the workspace already shown."""
        assert round_.id is not None
        shown = await repo.shown_rounds(session, round_.workspace_id, exclude=round_.id)
        invited = await repo.invited_ids(session, [round_.id, *shown])
        return visibility.decide(
            invited[round_.id],
            responded,
            [visibility.Population(r, invited[r]) for r in shown],
            min_responses=self.config.pulses.min_responses,
            min_comment_responses=self.config.pulses.min_comment_responses,
        )

    async def judge_pending(self) -> None:
        """Rounds closed before the gate existed (tallied by the upgrade) get their verdict,
        oldest first, so they are judged in the order they closed."""
        async with self.db.read() as session:
            pending = await repo.undecided_closed(session)
        for round_ in pending:
            async with self.db.write() as session:
                fresh = await repo.round_by_id(session, round_.workspace_id, round_.id or 0)
                if fresh is None or fresh.scores_shown is not None:
                    continue
                await self._seal_result(session, fresh)

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
        """A closed round's stored result; an open round's says only who was asked."""
        assert round_.id is not None
        if not round_.closed:
            return RoundResult(invited=round_.invited, responded=0, shown=False)
        return from_tally(
            round_.invited,
            round_.tally,
            shown=bool(round_.scores_shown),
            responded=round_.responded,
            comments=await repo.comments(session, round_.id) if round_.comments_shown else [],
            hidden_reason=round_.hidden_reason,
        )

    async def progress(self, session: Unit, round_: PulseRound) -> str:
        """The coarse live count of an open round (needs the key to count the buckets)."""
        assert round_.id is not None
        responded = 0
        for bucket, sealed in await repo.ballots(session, round_.id):
            responded += len(self.box.open(round_.id, bucket, sealed))
        return visibility.progress(responded, self.config.pulses.min_responses)

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
            progress="" if round_.closed else await self.progress(session, round_),
        )


    async def charts(self, round_: PulseRound) -> list[Chart]:
        """Pictures for a closed round's results: the EASY × VALUE map and trend of its team's
        recent rounds up to this one (or of this round alone without a team). Built from the
        gated summaries, so a hidden round is no point and no value."""
        if not round_.closed:
            return []
        if round_.team_id is None:
            return pulse_charts(round_.subject, [summary_of(round_)])
        async with self.db.read() as session:
            team = await team_rows.get(session, round_.team_id)
        found = await StoredPulseSummaries(self.db, self.config).for_team(
            round_.workspace_id,
            round_.team_id,
            until=round_.scheduled_for + timedelta(microseconds=1),
            limit=CHART_ROUNDS,
        )
        return pulse_charts(team.name if team else round_.subject, found)


def identity(workspace: Workspace, user_id: str) -> str:
    """A person's stable platform identity, what respondent tags are made from (never a row
    id, which a re-import or merge of people rows would change): platform, scope, user id.
    The scope is the workspace record's platform id: the Slack team outside Enterprise Grid
    (byte-identical to what earlier versions used), the Grid org inside one, so an org member
    answering from two workspaces of the org is one respondent."""
    return f"{workspace.platform}:{workspace.external_id}:{user_id}"
