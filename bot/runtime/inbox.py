"""The inbox: platform requests the bot acknowledged, kept until a worker has acted on them.

An adapter acknowledges first (the platform's clock is short) and then calls `accept`, which
only appends to a buffer; a writer task stores the buffer in batches. Workers — this process
or others sharing the database — claim stored rows with a lease and run the handler the
adapter registered for their kind. So a process that dies after acknowledging loses at most
the few milliseconds not yet written, work that was written is picked up again when its lease
runs out, and a process that only acknowledges (`role: web`) can leave all of the core's CPU
and database work to worker processes.

Handlers run at least once, so a handler that changes data must make a re-run harmless: the
Slack adapter passes the row's key to the core, which stores it with a kudos (exactly once)
or records it before any other command (at most once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.ops import logcontext
from bot.ops.metrics import INBOX_ITEMS, count_database_error
from bot.runtime.clock import Clock
from bot.runtime.outbox import wakes_after_answer
from bot.runtime.polling import claim_until_stopped
from bot.runtime.retries import inbox_retry, writer_pause
from bot.runtime.waiting import first_of
from storage.db import Database
from storage.repositories import inbox as rows
from storage.repositories.inbox import Accepted

log = logging.getLogger("bot.inbox")  # name kept: operators alert on it

Handler = Callable[[dict[str, Any]], Awaitable[None]]

# A handler that raises is tried this many times in all, a little later each time.
MAX_ATTEMPTS = 3
RETRY_SECONDS = 5.0
# Keep handled keys this long: platforms redeliver within hours (Slack's delayed events: 24 h).
KEY_MEMORY = timedelta(days=2)
PURGE_EVERY_SECONDS = 600.0
# Handled rows are marked done in the writer's next transaction, or after this long idle: a
# transaction of their own per request would cost more than the request's own (a row whose
# mark was lost to a crash is run again after its lease, harmlessly).
FINISH_AFTER_SECONDS = 2.0
# Handlers a process that only acknowledges may still run when it is quiet, and for how long
# it lets them finish at shutdown before handing their rows back.
ASSIST_SLOTS = 1
# Rows claimed at once to be run one after another, when busy beside acknowledgements.
BUSY_CLAIM = 8
# Keys this process accepted lately: a second copy of one is never started before the door
# (the row's unique key) has had its say.
RECENT_KEYS = 50_000
CLOSE_GRACE_SECONDS = 3.0
# A writer that cannot reach the database keeps what it holds and tries again, up to this much.
MAX_BUFFERED = 10_000


@dataclass(frozen=True)
class InboxSettings:
    # Handlers running at once per process: enough to overlap slow platform calls, few enough
    # not to exhaust the database pool.
    slots: int = 4
    # How long a claim is exclusive; a worker that died mid-handler is replaced after this.
    lease_seconds: float = 120.0
    # How often an idle worker looks for rows written by other processes, when nothing tells
    # it about them (SQLite) ...
    poll_seconds: float = 0.2
    # ... and when other processes announce new rows (PostgreSQL NOTIFY): a safety net for
    # lost announcements, rows due later (retries) and leases that ran out.
    safety_poll_seconds: float = 5.0
    # The least time between two of the writer's transactions: requests arriving sooner than
    # this after a write share the next one. A request arriving after a quiet spell is stored
    # at once.
    gather_seconds: float = 0.02
    # A process that only acknowledges (`role: web`, beside worker processes) still runs a
    # request itself while it receives fewer than this many per second: the person waits for
    # no hand-over to another process, and under load the workers take everything, keeping
    # acknowledgements fast.
    assist_below_per_second: float = 10.0
    # From this many requests a second, a process that also acknowledges runs one at a time.
    busy_per_second: float = 50.0


class Inbox:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: InboxSettings | None = None,
        *,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings or InboxSettings()
        self.worker_id = worker_id or f"inbox-{uuid.uuid4().hex[:12]}"
        # False in a process that only acknowledges: its rows wait for worker processes ...
        self.works_here = True
        # ... unless it assists them while quiet (`InboxSettings.assist_below_per_second`).
        self.assists_when_quiet = False
        # True where this process also acknowledges platform requests (`role: all`).
        self.shares_loop_with_acks = False
        # True when no other process stores requests in this inbox (one process on SQLite):
        # every new row then wakes this worker directly, and polling is only a safety net.
        self.sole_writer = False
        self._handlers: dict[str, Handler] = {}
        self._buffer: list[Accepted] = []
        self._buffered = asyncio.Event()
        self._written_at = float("-inf")
        self._writing = asyncio.Lock()
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()
        # Rows are named by key: a request starts when accepted, before its row is written.
        self._done: list[str] = []
        self._started_early: set[str] = set()
        self._keys_running: set[str] = set()
        self._arrivals: deque[float] = deque()
        self._buffered_at = 0.0  # when the oldest request in the buffer was accepted
        self._settled = asyncio.Event()  # a handler finished
        self._recent: OrderedDict[str, None] = OrderedDict()
        # The process's stop signal (its loops' too): nothing new starts after it.
        self.stopping: asyncio.Event | None = None
        # Rows may be waiting that no slot took: stored unclaimed, or the last claim filled
        # every slot. A slot that frees up looks for more only then.
        self._backlog = True
        self._finishing = asyncio.Lock()
        self._purged_at = 0.0
        # Set when the worker loop has stopped: nothing new may start in this process.
        self._closed = False
        # Handlers cancelled by shutdown: their rows go back to the queue at once.
        self._interrupted: list[str] = []

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    # -- adapters -----------------------------------------------------------------------------

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    def accept(
        self, kind: str, key: str, payload: dict[str, Any], *, redelivery: bool = False
    ) -> None:
        """Take an acknowledged request; returns at once (nothing here may delay an ack).

        With a slot free here, its handler starts now, while its row is being written (already
        claimed by this worker): the person waits for no database round trip before the work
        begins. Handlers run at least once anyway, so one that finishes before its row is
        written is marked done in that same write. A `redelivery` (the platform says it is
        sending again) and a key this process saw lately wait for the door instead: their row
        is written first, and a copy of something already stored is dropped there."""
        if len(self._buffer) >= MAX_BUFFERED:
            INBOX_ITEMS.labels(outcome="dropped").inc()
            log.error("inbox: %d requests waiting for the database; dropping %s", MAX_BUFFERED, key)
            return
        key = key[:255]
        self._arrived()
        seen = self._seen(key)
        if not redelivery and not seen and self._may_start(kind, key):
            self._started_early.add(key)
            self._start(kind, key, payload, attempts=1)
        if not self._buffer:
            self._buffered_at = asyncio.get_running_loop().time()
        self._buffer.append(Accepted(kind=kind, key=key, payload=payload))
        self._buffered.set()

    def _seen(self, key: str) -> bool:
        """Whether this process accepted `key` lately; remembers it either way."""
        if key in self._recent:
            self._recent.move_to_end(key)
            return True
        self._recent[key] = None
        if len(self._recent) > RECENT_KEYS:
            self._recent.popitem(last=False)
        return False

    def _arrived(self, *, counted: bool = True) -> None:
        now = asyncio.get_running_loop().time()
        if counted:
            self._arrivals.append(now)
        while self._arrivals and now - self._arrivals[0] > 1.0:
            self._arrivals.popleft()

    def _may_start(self, kind: str, key: str) -> bool:
        stopping = self.stopping is not None and self.stopping.is_set()
        if self._closed or stopping or kind not in self._handlers:
            return False
        if self.works_here:
            return self._free_slots() > 0
        quiet = len(self._arrivals) < self.settings.assist_below_per_second
        return self.assists_when_quiet and quiet and len(self._running) < ASSIST_SLOTS

    # -- writing ------------------------------------------------------------------------------

    async def write_buffered(self) -> int:
        """Store what was accepted so far; returns how many new rows were written."""
        async with self._writing:
            items, self._buffer = self._buffer, []
            if not items:
                return 0
            taken, self._done = self._done, []
            unique = list({item.key: item for item in items}.values())
            # Rows whose handler started when they were accepted are written done when it has
            # finished, else claimed by this worker; the rest wait for a slot here or in
            # another process.
            early = [item for item in unique if item.key in self._started_early]
            finished = set(taken)
            handled = [item for item in early if item.key in finished]
            claimed = [item for item in early if item.key not in finished]
            queued = [item for item in unique if item.key not in self._started_early]
            done = [key for key in taken if key not in {item.key for item in handled}]
            now = self.clock.now()
            statements = sum(1 for part in (handled, claimed, queued, done) if part)
            try:
                single = statements == 1 and not queued  # (an announcement is one more)
                async with self.db.write_connection(one_statement=single) as connection:
                    stored = await rows.accept_many(connection, handled, now=now, handled=True)
                    started = await rows.accept_many(
                        connection, claimed, now=now, claim_for=(self.worker_id, self.lease)
                    )
                    waiting = await rows.accept_many(connection, queued, now=now)
                    if waiting:
                        await rows.announce(connection)
                    await rows.finish_on(connection, done, self.worker_id, now=now)
            except Exception:
                self._buffer[:0] = items  # keep them, in order, for the next attempt
                self._done[:0] = taken
                raise
            self._started_early.difference_update(item.key for item in early)
        new = len(stored) + len(started) + len(waiting)
        INBOX_ITEMS.labels(outcome="accepted").inc(new)
        INBOX_ITEMS.labels(outcome="duplicate").inc(len(items) - new)
        if waiting:
            self._backlog = True
            self._wake.set()
        return new

    async def run_writer(self, stop: asyncio.Event) -> None:
        """Store accepted requests as they come, in batches; on `stop`, store what is left."""
        self.stopping = self.stopping or stop
        failures = 0
        while True:
            if not self._buffer:
                if stop.is_set():
                    return
                self._buffered.clear()
                await first_of(stop, self._buffered, seconds=self._finish_wait())
                if not self._buffer and self._done:
                    await self.finish_done()  # nothing to store: the handled rows alone
                continue
            running = self._running_early_for()
            if running > 0 and not stop.is_set():
                # Requests started here are still running: their rows are written when they
                # finish (done, one statement instead of a claim now and a mark later), or
                # when the gathering window ends, whichever comes first.
                self._settled.clear()
                await first_of(stop, self._settled, seconds=running)
                continue
            since = asyncio.get_running_loop().time() - self._written_at
            if not stop.is_set() and since < self.settings.gather_seconds:
                # Busy: let a few more arrive. One transaction for several requests costs the
                # process answering the platform far less CPU than one each; after a quiet
                # spell nobody is waiting to share, so the request is stored at once.
                await asyncio.sleep(self.settings.gather_seconds - since)
            try:
                self._written_at = asyncio.get_running_loop().time()
                await self.write_buffered()
                failures = 0
            except Exception as error:
                count_database_error("inbox", error)
                failures += 1
                log.warning("inbox: could not store %d requests: %s", len(self._buffer), error)
                if stop.is_set() and failures >= 3:
                    log.error("inbox: giving up on %d requests at shutdown", len(self._buffer))
                    return
                await asyncio.sleep(writer_pause(failures))

    # -- working ------------------------------------------------------------------------------

    def _running_early_for(self) -> float:
        """How much longer the writer may wait for handlers started at accept (0: none)."""
        if not any(item.key in self._keys_running for item in self._buffer):
            return 0.0
        waited = asyncio.get_running_loop().time() - self._buffered_at
        return max(0.0, self.settings.gather_seconds - waited)

    def _finish_wait(self) -> float | None:
        return FINISH_AFTER_SECONDS if self._done else None

    def _free_slots(self) -> int:
        # Requests pour in and the acknowledgements share this loop: one handler at a time
        # keeps them prompt; the rest wait, stored, and are done as the rush ebbs.
        slots = 1 if self._one_at_a_time() else self.settings.slots
        return max(0, slots - len(self._running))

    def _one_at_a_time(self) -> bool:
        return self.shares_loop_with_acks and self._busy()

    def _busy(self) -> bool:
        self._arrived(counted=False)
        return len(self._arrivals) >= self.settings.busy_per_second

    async def claim_and_start(self) -> int:
        """Claim as many due rows as there are free slots and start them; returns how many."""
        free = self._free_slots()
        if free == 0 or not self._handlers:
            self._backlog = True
            return 0
        # One at a time (busy, beside acks): a few claimed at once, run one after another,
        # so the rush costs one claim per few requests rather than one each.
        in_turn = self._one_at_a_time()
        limit = BUSY_CLAIM if in_turn else free
        async with self.db.write() as session:
            claimed = await rows.claim_due(
                session,
                worker=self.worker_id,
                now=self.clock.now(),
                lease=self.lease,
                limit=limit,
                kinds=list(self._handlers),
            )
            started = [(row.kind, row.key, row.payload or {}, row.attempts) for row in claimed]
        self._backlog = len(started) == limit
        if in_turn and started:
            self._track(self._in_turn(started))
        else:
            for kind, key, payload, attempts in started:
                self._start(kind, key, payload, attempts=attempts)
        return len(started)

    def _start(self, kind: str, key: str, payload: dict[str, Any], *, attempts: int) -> None:
        self._keys_running.add(key)
        self._track(self._handle(kind, key, payload, attempts))

    def _track(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _in_turn(self, claimed: list[tuple[str, str, dict[str, Any], int]]) -> None:
        for index, (kind, key, payload, attempts) in enumerate(claimed):
            self._keys_running.add(key)
            try:
                await self._handle(kind, key, payload, attempts)
            except asyncio.CancelledError:
                # Shutting down: the rest were never started; handed back in `close`.
                self._interrupted.extend(later[1] for later in claimed[index + 1 :])
                raise

    async def _handle(self, kind: str, key: str, payload: dict[str, Any], attempts: int) -> None:
        try:
            # The handler's answer (a kudos confirmation) leaves before the messages it queued.
            with logcontext.bind(inbox_key=key), wakes_after_answer():
                await self._handlers[kind](payload)
        except asyncio.CancelledError:
            self._interrupted.append(key)  # shutting down: handed back in `close`
            raise
        except Exception as error:
            await self._failed(key, attempts, error)
        else:
            INBOX_ITEMS.labels(outcome="done").inc()
            self._done.append(key)
            self._buffered.set()  # the writer marks it done, with its next batch or alone
        finally:
            self._keys_running.discard(key)
            self._settled.set()
            if self._backlog:
                self._wake.set()  # a slot is free, and rows may be waiting for one

    async def finish_done(self) -> None:
        """Mark handled rows done, many per transaction (whoever holds the lock writes all)."""
        async with self._finishing:
            keys, self._done = self._done, []
            if not keys:
                return
            try:
                async with self.db.write_connection(one_statement=True) as connection:
                    await rows.finish_on(connection, keys, self.worker_id, now=self.clock.now())
            except Exception as error:
                # Not fatal: the lease runs out and the (idempotent) work is done again.
                count_database_error("inbox", error)
                log.warning("inbox: could not mark %d requests done: %s", len(keys), error)

    async def _failed(self, key: str, attempts: int, error: Exception) -> None:
        if key in self._started_early:
            # Its row must exist to be retried: store it now (else its lease brings it back).
            with contextlib.suppress(Exception):
                await self.write_buffered()
        description = f"{type(error).__name__}: {error}"
        now = self.clock.now()
        retry = inbox_retry(attempts, max_attempts=MAX_ATTEMPTS, step_seconds=RETRY_SECONDS)
        try:
            async with self.db.write() as session:
                if retry is not None:
                    INBOX_ITEMS.labels(outcome="retried").inc()
                    log.warning("inbox: %s failed (%s); retrying", key, description)
                    later = now + timedelta(seconds=retry.seconds)
                    await rows.retry_later(
                        session, key, self.worker_id, available_at=later, error=description
                    )
                else:
                    INBOX_ITEMS.labels(outcome="failed").inc()
                    log.error("inbox: %s failed %d times; giving up", key, attempts, exc_info=error)
                    await rows.give_up(session, key, self.worker_id, now=now, error=description)
        except Exception as store_error:
            count_database_error("inbox", store_error)
            log.warning("inbox: could not record the failure of %s: %s", key, store_error)

    async def run_worker(self, stop: asyncio.Event) -> None:
        """Claim and run due rows until `stop`; handlers already running get the app's grace.

        Rows other processes store are announced (PostgreSQL): the worker wakes at once and
        polls only as a safety net while it listens."""
        self.stopping = self.stopping or stop
        listening = asyncio.ensure_future(self.db.listen(rows.CHANNEL, self._wake.set, stop))
        try:
            await claim_until_stopped(
                stop,
                self._claim_more,
                wake=self._wake,
                idle_seconds=self._idle_seconds,
                upkeep=self._purge_when_due,
                source="inbox",
                log=log,
                failure="inbox: claiming failed; retrying shortly",
            )
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
        self._closed = True
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    def _idle_seconds(self) -> float:
        if self.sole_writer or rows.CHANNEL in self.db.listening:
            return self.settings.safety_poll_seconds
        return self.settings.poll_seconds

    async def _claim_more(self) -> bool:
        """Claim and start; True when there may be more waiting and a slot to run it."""
        started = await self.claim_and_start()
        return started > 0 and self._free_slots() > 0

    async def _purge_when_due(self) -> None:
        if asyncio.get_running_loop().time() - self._purged_at > PURGE_EVERY_SECONDS:
            await self._purge()

    async def _purge(self) -> None:
        self._purged_at = asyncio.get_running_loop().time()
        try:
            async with self.db.write() as session:
                await rows.forget_finished_before(session, self.clock.now() - KEY_MEMORY)
        except Exception as error:
            count_database_error("inbox", error)
            log.warning("inbox: could not forget old keys: %s", error)

    async def _hand_back(self, keys: list[str]) -> None:
        if not keys:
            return
        try:
            async with self.db.write() as session:
                await rows.hand_back(session, keys, self.worker_id, self.clock.now())
        except Exception as error:
            count_database_error("inbox", error)
            log.warning(
                "inbox: could not hand back %d requests (their lease will): %s", len(keys), error
            )

    async def close(self) -> None:
        """Last thing before the database closes: store what was acknowledged since the writer
        stopped (requests still finishing at shutdown), and hand back interrupted work."""
        self._closed = True
        if self._running:  # handlers no worker loop waits for (a process assisting when quiet)
            _, late = await asyncio.wait(set(self._running), timeout=CLOSE_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for _ in range(3):
            if not self._buffer:
                break
            try:
                await self.write_buffered()
            except Exception as error:
                count_database_error("inbox", error)
                log.error(
                    "inbox: could not store %d requests at shutdown: %s", len(self._buffer), error
                )
                await asyncio.sleep(0.2)
        interrupted, self._interrupted = self._interrupted, []
        await self._hand_back(interrupted)
        await self.finish_done()

    # -- for the console, tests and shutdown --------------------------------------------------

    async def drain(self, rounds: int = 1000) -> None:
        """Store, claim and run until nothing is buffered, due or running."""
        for _ in range(rounds):
            await self.write_buffered()
            started = await self.claim_and_start() if self.works_here else 0
            if self._running:
                await asyncio.gather(*list(self._running), return_exceptions=True)
                continue
            if not started and not self._buffer:
                await self.finish_done()
                return

    @property
    def busy(self) -> bool:
        return bool(self._buffer or self._running)
