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
        # False in a process that only acknowledges: its rows wait for worker processes.
        self.works_here = True
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
        self._done: list[int] = []
        self._finishing = asyncio.Lock()
        self._purged_at = 0.0
        # Set when the worker loop has stopped: nothing new may start in this process.
        self._closed = False
        # Handlers cancelled by shutdown: their rows go back to the queue at once.
        self._interrupted: list[int] = []

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    # -- adapters -----------------------------------------------------------------------------

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    def accept(self, kind: str, key: str, payload: dict[str, Any]) -> None:
        """Take an acknowledged request; returns at once (nothing here may delay an ack)."""
        if len(self._buffer) >= MAX_BUFFERED:
            INBOX_ITEMS.labels(outcome="dropped").inc()
            log.error("inbox: %d requests waiting for the database; dropping %s", MAX_BUFFERED, key)
            return
        self._buffer.append(Accepted(kind=kind, key=key[:255], payload=payload))
        self._buffered.set()

    # -- writing ------------------------------------------------------------------------------

    async def write_buffered(self) -> int:
        """Store what was accepted so far; returns how many new rows were written."""
        async with self._writing:
            items, self._buffer = self._buffer, []
            if not items:
                return 0
            unique = list({item.key: item for item in items}.values())
            free = self._free_slots() if self.works_here and not self._closed else 0
            # Up to the free slots start here at once, already claimed; the rest wait as rows.
            claimed = [item for item in unique if item.kind in self._handlers][:free]
            chosen = {id(item) for item in claimed}
            queued = [item for item in unique if id(item) not in chosen]
            now = self.clock.now()
            try:
                single = not (claimed and queued)
                async with self.db.write_connection(one_statement=single) as connection:
                    started = await rows.accept_many(
                        connection, claimed, now=now, claim_for=(self.worker_id, self.lease)
                    )
                    waiting = await rows.accept_many(connection, queued, now=now)
                    if waiting:
                        await rows.announce(connection)
            except Exception:
                self._buffer[:0] = items  # keep them, in order, for the next attempt
                raise
        INBOX_ITEMS.labels(outcome="accepted").inc(len(started) + len(waiting))
        INBOX_ITEMS.labels(outcome="duplicate").inc(len(items) - len(started) - len(waiting))
        if self._closed:  # the worker stopped while these were being written: not here, then
            await self._hand_back(list(started.values()))
            started = {}
        for item in claimed:
            if item.key in started:
                self._start(started[item.key], item.kind, item.key, item.payload, attempts=1)
        if waiting:
            self._wake.set()
        return len(started) + len(waiting)

    async def run_writer(self, stop: asyncio.Event) -> None:
        """Store accepted requests as they come, in batches; on `stop`, store what is left."""
        failures = 0
        while True:
            if not self._buffer:
                if stop.is_set():
                    return
                self._buffered.clear()
                await first_of(stop, self._buffered)
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

    def _free_slots(self) -> int:
        return max(0, self.settings.slots - len(self._running))

    async def claim_and_start(self) -> int:
        """Claim as many due rows as there are free slots and start them; returns how many."""
        free = self._free_slots()
        if free == 0 or not self._handlers:
            return 0
        async with self.db.write() as session:
            claimed = await rows.claim_due(
                session,
                worker=self.worker_id,
                now=self.clock.now(),
                lease=self.lease,
                limit=free,
                kinds=list(self._handlers),
            )
            started = [(row.id, row.kind, row.key, row.payload, row.attempts) for row in claimed]
        for row_id, kind, key, payload, attempts in started:
            assert row_id is not None
            self._start(row_id, kind, key, payload or {}, attempts=attempts)
        return len(started)

    def _start(
        self, row_id: int, kind: str, key: str, payload: dict[str, Any], *, attempts: int
    ) -> None:
        task = asyncio.create_task(self._handle(row_id, kind, key, payload, attempts))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _handle(
        self, row_id: int, kind: str, key: str, payload: dict[str, Any], attempts: int
    ) -> None:
        try:
            # The handler's answer (a kudos confirmation) leaves before the messages it queued.
            with logcontext.bind(inbox_key=key), wakes_after_answer():
                await self._handlers[kind](payload)
        except asyncio.CancelledError:
            self._interrupted.append(row_id)  # shutting down: handed back in `close`
            raise
        except Exception as error:
            await self._failed(row_id, key, attempts, error)
        else:
            INBOX_ITEMS.labels(outcome="done").inc()
            self._done.append(row_id)
            await self.finish_done()
        finally:
            self._wake.set()  # a slot is free

    async def finish_done(self) -> None:
        """Mark handled rows done, many per transaction (whoever holds the lock writes all)."""
        async with self._finishing:
            ids, self._done = self._done, []
            if not ids:
                return
            try:
                async with self.db.write() as session:
                    await rows.finish(session, ids, self.worker_id, now=self.clock.now())
            except Exception as error:
                # Not fatal: the lease runs out and the (idempotent) work is done again.
                count_database_error("inbox", error)
                log.warning("inbox: could not mark %d requests done: %s", len(ids), error)

    async def _failed(self, row_id: int, key: str, attempts: int, error: Exception) -> None:
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
                        session, row_id, self.worker_id, available_at=later, error=description
                    )
                else:
                    INBOX_ITEMS.labels(outcome="failed").inc()
                    log.error("inbox: %s failed %d times; giving up", key, attempts, exc_info=error)
                    await rows.give_up(session, row_id, self.worker_id, now=now, error=description)
        except Exception as store_error:
            count_database_error("inbox", store_error)
            log.warning("inbox: could not record the failure of %s: %s", key, store_error)

    async def run_worker(self, stop: asyncio.Event) -> None:
        """Claim and run due rows until `stop`; handlers already running get the app's grace.

        Rows other processes store are announced (PostgreSQL): the worker wakes at once and
        polls only as a safety net while it listens."""
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

    async def _hand_back(self, ids: list[int]) -> None:
        if not ids:
            return
        try:
            async with self.db.write() as session:
                await rows.hand_back(session, ids, self.worker_id, self.clock.now())
        except Exception as error:
            count_database_error("inbox", error)
            log.warning(
                "inbox: could not hand back %d requests (their lease will): %s", len(ids), error
            )

    async def close(self) -> None:
        """Last thing before the database closes: store what was acknowledged since the writer
        stopped (requests still finishing at shutdown), and hand back interrupted work."""
        self._closed = True
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
