"""The persistent outbox: every proactive message waits here until a platform accepted it.

Services enqueue inside their own transaction, so a message exists exactly when the change
that caused it was committed. Workers claim due rows (row locks on PostgreSQL, the single
writer on SQLite), pace sends per workspace, honour Retry-After, retry with backoff, and
mark a row sent only after the platform answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.host import (
    CannotTell,
    Delivery,
    OutcomeUnknown,
    PermanentFailure,
    Platform,
    RateLimited,
    TemporaryFailure,
)
from bot.messages import Message
from bot.ops import logcontext
from bot.ops.config import OutboxSettings
from bot.ops.metrics import (
    OUTBOX_BLIND_RESENDS,
    OUTBOX_DEPTH,
    OUTBOX_SENDS,
    count_database_error,
)
from bot.runtime.clock import Clock
from bot.runtime.pictures import PictureRenderer
from bot.runtime.polling import claim_until_stopped
from bot.runtime.retries import (
    Retry,
    after_rate_limit,
    check_again,
    in_doubt_retry,
    outbox_retry,
)
from storage.db import Database
from storage.models import OutboxItem
from storage.repositories import outbox as rows
from storage.repositories import workspaces
from storage.unit import Unit

log = logging.getLogger("bot.outbox")  # name kept: operators alert on it
# Share of the lease a worker may spend on a claim before it must hand the row back unsent.
LEASE_SAFETY = 0.75
# Send a little under the platform's limit: network jitter can bunch evenly paced requests,
# and one 429 costs a whole Retry-After (≥ 1 s) for the workspace — far more than 3 %.
PACE_HEADROOM = 0.97
# Outcomes written per transaction: one commit per message would cost more than the send.
SETTLE_BATCH = 50
# Claimed batches in flight at once per worker (see `run`).
PIPELINE = 2
# How often a running worker refreshes the queue-depth gauge.
DEPTH_EVERY_SECONDS = 5.0


@dataclass
class _HeldWakes:
    """Outbox wake-ups asked for while a waited-on answer is being made."""

    open: bool = True
    wakes: list[asyncio.Event] = field(default_factory=list)


_held: contextvars.ContextVar[_HeldWakes | None] = contextvars.ContextVar(
    "outbox_held_wakes", default=None
)


@contextlib.contextmanager
def wakes_after_answer() -> Iterator[None]:
    """Messages queued inside this block (a kudos' channel post and DMs) start out once it
    ends: the answer the person is waiting for (the confirmation) leaves first, without a
    claim transaction and the sends competing with it for the CPU and the database. They are
    stored already; only the worker's wake-up waits. Work the block spawns that queues later,
    after the block ended, wakes the worker at once."""
    held = _HeldWakes()
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        held.open = False
        for wake in held.wakes:
            wake.set()


async def enqueue(
    session: Unit,
    *,
    workspace_id: int,
    platform: str,
    key: str,
    message: Message,
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Queue `message` in the caller's transaction; False if `key` was already queued."""
    return await rows.enqueue(
        session,
        workspace_id=workspace_id,
        platform=platform,
        key=key,
        message=message.model_dump(mode="json"),
        now=now,
        not_before=not_before,
    )


async def enqueue_many(
    session: Unit,
    *,
    workspace_id: int,
    platform: str,
    items: list[tuple[str, dict[str, Any], datetime]],
    now: datetime,
) -> None:
    """Queue a fan-out in one statement per thousand rows: (key, message JSON, not_before).

    Messages are given as `Message.model_dump(mode="json")` dicts so a caller can build
    thousands of near-identical messages without validating each one."""
    await rows.enqueue_many(
        session, workspace_id=workspace_id, platform=platform, items=items, now=now
    )


@dataclass
class _Pacer:
    """Lets one message through per `interval`, in turn; a 429 pauses the whole workspace.

    Senders queue on a lock, so each send wakes exactly one waiter. Slots follow a fixed
    schedule (no drift from small timer delays); after a stall longer than a slot (a busy
    machine) the schedule restarts from now instead of letting the overdue ones out in a
    burst — a burst is what trips a platform's limit and costs a whole Retry-After."""

    interval: float
    next_slot: float = 0.0
    paused_until: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def wait(self) -> None:
        async with self.lock:
            target = max(self.next_slot, self.paused_until)
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            on_time = now - target < self.interval
            self.next_slot = (target if on_time else now) + self.interval

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)


@dataclass
class OutboxStats:
    sent: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0
    # Tries whose outcome was unknown, and resends made without being able to check them.
    in_doubt: int = 0
    blind_resends: int = 0
    by_platform: dict[str, int] = field(default_factory=dict)


class OutboxWorker:
    def __init__(
        self,
        db: Database,
        platforms: Mapping[str, Platform],
        clock: Clock,
        settings: OutboxSettings,
        *,
        worker_id: str | None = None,
        concurrency: int = 16,
        pictures: PictureRenderer | None = None,
    ) -> None:
        self.db = db
        # Draws a message's charts just before delivery, in a process of its own; without it
        # charts go out as their text alternative.
        self.pictures = pictures
        self.platforms = platforms
        self.clock = clock
        self.settings = settings
        self.worker_id = worker_id or f"worker-{uuid.uuid4().hex[:12]}"
        self.stats = OutboxStats()
        self._pacers: dict[tuple[str, int], _Pacer] = {}
        self._limit = asyncio.Semaphore(concurrency)
        self._workspace_ids: dict[int, str] = {}
        self._outcomes: list[_Outcome] = []
        self._flushing = asyncio.Lock()
        self.wake = asyncio.Event()
        # Set on shutdown: claim nothing new; claimed rows not yet sent go back to the queue.
        self.stopping = asyncio.Event()
        self._depth_counted_at = 0.0

    # -- public ---------------------------------------------------------------------------

    def request_wake(self) -> None:
        """What services call after queueing: wake the worker now, or when the waited-on
        answer in progress has left (`wakes_after_answer`)."""
        held = _held.get()
        if held is not None and held.open:
            held.wakes.append(self.wake)
        else:
            self.wake.set()

    async def run_once(self, batch: int | None = None) -> int:
        """Claim one batch of due messages and deliver them; returns how many were claimed."""
        if not self.platforms or self.stopping.is_set():
            return 0
        batch = batch or self._batch_size()
        async with self.db.write() as session:
            claimed = await rows.claim_due(
                session,
                worker=self.worker_id,
                now=self.clock.now(),
                lease=timedelta(seconds=self.settings.lease_seconds),
                limit=batch,
                platforms=list(self.platforms),
            )
        # Real time, not the injected clock: the lease guards against real waiting.
        lease_ends = time.monotonic() + self.settings.lease_seconds * LEASE_SAFETY
        for workspace_id in {entry.row.workspace_id for entry in claimed}:
            with contextlib.suppress(PermanentFailure):  # reported per message below
                await self._workspace_external_id(workspace_id)
        try:
            await asyncio.gather(
                *(
                    self._deliver(entry.row, entry.taken_over, lease_ends, entry.previous_claim_at)
                    for entry in claimed
                )
            )
        finally:
            await self._flush()
        return len(claimed)

    async def drain(self, max_batches: int = 1000) -> None:
        """Deliver until nothing is due now (console turns, tests)."""
        try:
            for _ in range(max_batches):
                if await self.run_once() == 0:
                    return
        finally:
            await self.count_depth()

    async def count_depth(self) -> None:
        """Publish the number of rows per status (the `kudos_pulse_outbox_depth` gauge)."""
        self._depth_counted_at = time.monotonic()
        try:
            async with self.db.read() as session:
                counts = await rows.count_by_status(session)
        except Exception as error:
            count_database_error("outbox", error)
            log.warning("outbox: could not count the queue: %s", error)
            return
        for status in (rows.PENDING, rows.SENDING, rows.SENT, rows.FAILED, rows.CANCELLED):
            OUTBOX_DEPTH.labels(status=status).set(counts.get(status, 0))

    async def run(self, stop: asyncio.Event, idle_seconds: float = 1.0) -> None:
        """Deliver until `stop` is set; wakes early when `wake` is set by an enqueuer.

        Two claim loops overlap, so one claims and settles while the other's batch is still
        being sent: the shared pacer never idles between batches. On `stop` it claims nothing
        more; sends already under way finish, and claimed rows still waiting for their send
        slot go back to the queue for the next process."""
        watcher = asyncio.ensure_future(self._mirror(stop))
        try:
            await asyncio.gather(*(self._claim_loop(stop, idle_seconds) for _ in range(PIPELINE)))
        finally:
            watcher.cancel()

    async def _mirror(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.stopping.set()

    async def _claim_loop(self, stop: asyncio.Event, idle_seconds: float) -> None:
        await claim_until_stopped(
            stop,
            self._claim_more,
            wake=self.wake,
            idle_seconds=idle_seconds,
            upkeep=self._count_depth_when_due,
            source="outbox",
            log=log,
            failure="outbox batch failed; retrying shortly",
        )

    async def _claim_more(self) -> bool:
        """Send one batch; True when it claimed anything (the next may be waiting)."""
        return await self.run_once() > 0

    async def _count_depth_when_due(self) -> None:
        if time.monotonic() - self._depth_counted_at > DEPTH_EVERY_SECONDS:
            await self.count_depth()

    # -- one message ----------------------------------------------------------------------

    def _batch_size(self) -> int:
        # Four seconds of sending at the fastest platform's pace (fewer pauses between
        # batches), and never more than a quarter of the lease: a claim must be sent well
        # before another worker may take it over.
        fastest = max(self._rate(name) for name in self.platforms)
        within_lease = fastest * self.settings.lease_seconds / 4
        return max(1, min(500, int(fastest * 4), int(within_lease)))

    def _rate(self, platform: str) -> float:
        return float(getattr(self.settings, f"{platform}_per_second", 5.0))

    def _pacer(self, platform: str, workspace_id: int) -> _Pacer:
        key = (platform, workspace_id)
        if key not in self._pacers:
            self._pacers[key] = _Pacer(interval=1.0 / (self._rate(platform) * PACE_HEADROOM))
        return self._pacers[key]

    async def _workspace_external_id(self, workspace_id: int) -> str:
        if workspace_id not in self._workspace_ids:
            async with self.db.read() as session:
                workspace = await workspaces.get(session, workspace_id)
            if workspace is None:
                raise PermanentFailure(f"workspace {workspace_id} no longer exists")
            self._workspace_ids[workspace_id] = workspace.external_id
        return self._workspace_ids[workspace_id]

    async def _deliver(
        self,
        item: OutboxItem,
        in_doubt: bool,
        lease_ends: float,
        previous_claim_at: datetime | None = None,
    ) -> None:
        with logcontext.bind(outbox_key=item.dedupe_key, platform=item.platform):
            await self._deliver_one(item, in_doubt, lease_ends, previous_claim_at)

    async def _deliver_one(
        self,
        item: OutboxItem,
        taken_over: bool,
        lease_ends: float,
        previous_claim_at: datetime | None = None,
    ) -> None:
        assert item.id is not None
        # When a try that may have arrived began (None: no earlier try can have arrived).
        doubt = _doubt_since(item, taken_over, previous_claim_at)
        began: datetime | None = None  # when this claim's own post went out, if it did
        is_new_post = False
        async with self._limit:
            try:
                message = Message.model_validate(item.message)
                is_new_post = message.replaces is None
                platform = self.platforms[item.platform]
                external_id = await self._workspace_external_id(item.workspace_id)
                sender = platform.sender(external_id)
                if doubt is not None:
                    verdict = await self._resolve_doubt(sender, item, message, doubt)
                    if isinstance(verdict, Delivery):
                        self.stats.recovered += 1
                        OUTBOX_SENDS.labels(platform=item.platform, outcome="recovered").inc()
                        await self._settle(item, rows.SENT, platform_ref=verdict.ref)
                        return
                    if isinstance(verdict, Retry):
                        await self._requeue(
                            item, verdict, error="delivery check rate limited", doubt=doubt
                        )
                        return
                    doubt = None  # not there, or sent again knowingly blind (counted)
                replace_ref = await self._replace_ref(message)
                if replace_ref is _WAIT:
                    await self._settle(item, rows.PENDING, delay=2.0, refund=True)
                    return
                if replace_ref is _SKIP:
                    await self._settle(item, rows.CANCELLED)
                    return
                thread_ref = await self._thread_ref(message)
                if thread_ref is _WAIT:
                    await self._settle(item, rows.PENDING, delay=2.0, refund=True)
                    return
                if thread_ref is not None:
                    message = message.model_copy(update={"thread_ref": thread_ref})
                if message.charts and self.pictures is not None:
                    message = await self.pictures.attach(message)
                await self._wait_for_slot(self._pacer(item.platform, item.workspace_id))
                if self.stopping.is_set() or time.monotonic() >= lease_ends:
                    # Shutting down, or waited so long (e.g. behind a Retry-After) that the
                    # claim may pass to another worker any moment: not sent, so hand it back.
                    await self._settle(item, rows.PENDING, delay=0.0, refund=True)
                    return
                began = self.clock.now()
                delivery = await sender.send(
                    message,
                    key=item.dedupe_key,
                    replace_ref=replace_ref,  # type: ignore[arg-type]
                )
            except RateLimited as limited:
                self.stats.rate_limited += 1
                OUTBOX_SENDS.labels(platform=item.platform, outcome="rate_limited").inc()
                wait = after_rate_limit(limited.retry_after)
                self._pacer(item.platform, item.workspace_id).pause(wait.seconds)
                await self._requeue(item, wait, error=str(limited), doubt=doubt)
                return
            except PermanentFailure as failure:
                self.stats.failed += 1
                OUTBOX_SENDS.labels(platform=item.platform, outcome="failed").inc()
                log.warning("outbox %s failed for good: %s", item.dedupe_key, failure)
                await self._settle(item, rows.FAILED, error=str(failure))
                return
            except OutcomeUnknown as failure:
                if began is not None and is_new_post:
                    # The post may be in the conversation already: the next try checks first.
                    await self._retry_in_doubt(item, failure, began)
                else:  # an edit is the same however often it is made; anything else never left
                    await self._retry_later(item, failure, doubt=doubt)
                return
            except Exception as failure:  # TemporaryFailure and anything unexpected
                await self._retry_later(item, failure, doubt=doubt)
                return
            self.stats.sent += 1
            OUTBOX_SENDS.labels(platform=item.platform, outcome="sent").inc()
            self.stats.by_platform[item.platform] = self.stats.by_platform.get(item.platform, 0) + 1
            await self._settle(item, rows.SENT, platform_ref=delivery.ref)

    async def _wait_for_slot(self, pacer: _Pacer) -> None:
        """Wait for the pacer's slot, but give up at once when shutdown begins."""
        if self.stopping.is_set():
            return
        slot = asyncio.ensure_future(pacer.wait())
        stopping = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait([slot, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            slot.cancel()
            stopping.cancel()

    async def _resolve_doubt(
        self, sender: Any, item: OutboxItem, message: Message, since: datetime
    ) -> Delivery | Retry | None:
        """Whether a try of `item` begun at `since` arrived after all: its Delivery; a Retry
        when the platform asks to be asked later; None when it must be sent — it is not
        there, or nobody can tell (then the resend is blind, and counted)."""
        check = getattr(sender, "find_delivered", None)  # see `FindsDelivered`
        if check is not None:
            try:
                found: Delivery | None = await check(item.dedupe_key, message=message, since=since)
                return found
            except RateLimited as limited:
                age = (self.clock.now() - since).total_seconds()
                later = check_again(limited.retry_after, age)
                if later is not None:
                    return later
            except CannotTell:
                pass
            except Exception:  # the check failed; the message must still go out
                log.exception("outbox %s: delivery check failed", item.dedupe_key)
        self.stats.blind_resends += 1
        OUTBOX_BLIND_RESENDS.labels(platform=item.platform).inc()
        # The key only: never the message's text.
        log.info(
            "outbox %s: an earlier try may have arrived and %s cannot tell; sending again",
            item.dedupe_key,
            item.platform,
        )
        return None

    async def _replace_ref(self, message: Message) -> Any:
        if message.replaces is None:
            return None
        ref = await self._earlier_ref(message.replaces)
        return _SKIP if ref is _GONE else ref

    async def _earlier_ref(self, key: str) -> Any:
        """The platform ref of the earlier message sent under `key`; _WAIT while it is still
        to go out, _GONE when it never will (failed, cancelled, unknown)."""
        async with self.db.read() as session:
            earlier = await rows.find_by_key(session, key)
        if earlier is None or earlier.status in (rows.CANCELLED, rows.FAILED):
            return _GONE
        if earlier.status != rows.SENT:
            return _WAIT
        return earlier.platform_ref

    async def _retry_in_doubt(
        self, item: OutboxItem, failure: OutcomeUnknown, began: datetime
    ) -> None:
        retry = in_doubt_retry(
            item.attempts, max_attempts=self.settings.max_attempts, draw=random.random()
        )
        if retry is None:
            await self._give_up(item, failure)
            return
        self.stats.in_doubt += 1
        OUTBOX_SENDS.labels(platform=item.platform, outcome="in_doubt").inc()
        log.info(
            "outbox %s: outcome unknown (%s); will check before sending again",
            item.dedupe_key,
            failure,
        )
        await self._requeue(item, retry, error=str(failure), doubt=began)

    async def _give_up(self, item: OutboxItem, failure: Exception) -> None:
        self.stats.failed += 1
        OUTBOX_SENDS.labels(platform=item.platform, outcome="failed").inc()
        log.warning(
            "outbox %s gave up after %d attempts: %s", item.dedupe_key, item.attempts, failure
        )
        await self._settle(item, rows.FAILED, error=str(failure))

    async def _thread_ref(self, message: Message) -> Any:
        """The platform ref of the post `message` replies under: wait until that post is out;
        if it never will be (failed, cancelled), post on its own rather than not at all."""
        if message.thread_of is None or message.thread_ref is not None:
            return None
        ref = await self._earlier_ref(message.thread_of)
        return None if ref is _GONE else ref

    async def _retry_later(
        self, item: OutboxItem, failure: Exception, *, doubt: datetime | None
    ) -> None:
        retry = outbox_retry(
            item.attempts, max_attempts=self.settings.max_attempts, draw=random.random()
        )
        if retry is None:
            await self._give_up(item, failure)
            return
        self.stats.retried += 1
        OUTBOX_SENDS.labels(platform=item.platform, outcome="retried").inc()
        if not isinstance(failure, TemporaryFailure):
            log.exception(
                "outbox %s: unexpected error while sending", item.dedupe_key, exc_info=failure
            )
        await self._requeue(item, retry, error=str(failure), doubt=doubt)

    async def _requeue(
        self, item: OutboxItem, retry: Retry, *, error: str, doubt: datetime | None
    ) -> None:
        """Pending again after `retry`; `doubt`: when a try that may have arrived began."""
        await self._settle(
            item,
            rows.PENDING,
            delay=retry.seconds,
            error=error,
            refund=retry.refund,
            in_doubt_since=doubt,
        )

    async def _settle(
        self,
        item: OutboxItem,
        status: str,
        *,
        platform_ref: str | None = None,
        delay: float | None = None,
        error: str | None = None,
        refund: bool = False,
        in_doubt_since: datetime | None = None,
    ) -> None:
        """Record an outcome; outcomes are written together (one transaction per
        SETTLE_BATCH, and whatever is left when the claimed batch is done)."""
        assert item.id is not None
        now = self.clock.now()
        self._outcomes.append(
            _Outcome(
                item_id=item.id,
                key=item.dedupe_key,
                status=status,
                now=now,
                platform_ref=platform_ref,
                not_before=now + timedelta(seconds=delay) if delay is not None else None,
                error=error,
                refund=refund,
                in_doubt_since=in_doubt_since,
            )
        )
        if len(self._outcomes) >= SETTLE_BATCH:
            await self._flush()

    async def _flush(self) -> None:
        async with self._flushing:
            outcomes, self._outcomes = self._outcomes, []
            if not outcomes:
                return
            async with self.db.write() as session:
                lost = [
                    outcome.key
                    for outcome in outcomes
                    if not await rows.settle(
                        session,
                        outcome.item_id,
                        self.worker_id,
                        status=outcome.status,
                        now=outcome.now,
                        platform_ref=outcome.platform_ref,
                        not_before=outcome.not_before,
                        error=outcome.error,
                        refund_attempt=outcome.refund,
                        in_doubt_since=outcome.in_doubt_since,
                    )
                ]
        for key in lost:
            log.warning("outbox %s: claim expired before the outcome was recorded", key)


@dataclass(frozen=True)
class _Outcome:
    item_id: int
    key: str
    status: str
    now: datetime
    platform_ref: str | None
    not_before: datetime | None
    error: str | None
    refund: bool
    in_doubt_since: datetime | None


def _doubt_since(
    item: OutboxItem, taken_over: bool, previous_claim_at: datetime | None
) -> datetime | None:
    """The earliest a try that may have arrived began: a try whose answer was lost (recorded
    on the row), or a claim that ran out (its worker died mid-send) — nothing it sent is
    older than that claim, nor than the row."""
    since = [item.in_doubt_since] if item.in_doubt_since is not None else []
    if taken_over:
        since.append(
            max(previous_claim_at, item.created_at) if previous_claim_at else item.created_at
        )
    return min(since, default=None)


_WAIT = object()
_SKIP = object()
_GONE = object()  # an earlier message that never went out and never will
