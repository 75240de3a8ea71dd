"""APScheduler as an in-memory ticker; the schedules themselves live in our tables.

APScheduler 3.x cannot share a job store between processes (its FAQ says so), so every
process runs the same short interval job. Each tick asks every registered feature to do what
is due *now* according to the database (fire a pulse round, remind, close, send a digest);
features make that work idempotent with unique keys, so two processes ticking together, or a
process catching up after downtime, still create each round and digest exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.ops.metrics import SCHEDULER_FIRINGS
from bot.runtime.clock import Clock

log = logging.getLogger("bot.scheduler")  # name kept: operators alert on it

DueWork = Callable[[datetime], Awaitable[None]]


class Scheduler:
    def __init__(self, clock: Clock, interval_seconds: float = 15.0) -> None:
        self.clock = clock
        self.interval_seconds = interval_seconds
        self._work: list[tuple[str, DueWork]] = []
        self._lock = asyncio.Lock()
        self._stopped = False
        self._in_flight: asyncio.Task[None] | None = None
        self.ticks = 0

    def register(self, name: str, work: DueWork) -> None:
        self._work.append((name, work))

    async def tick(self) -> None:
        """Run every feature's due work once, in registration order; one failure stops none."""
        async with self._lock:  # a slow tick is never overlapped by the next one
            if self._stopped:  # fired just before shutdown: the database may be closing
                return
            now = self.clock.now()
            self.ticks += 1
            SCHEDULER_FIRINGS.labels(kind="tick").inc()  # features count their own kinds
            for name, work in self._work:
                try:
                    await work(now)
                except Exception:
                    log.exception("scheduled work %r failed; it will be retried next tick", name)

    async def _fire(self) -> None:
        # The tick runs in a task of our own: APScheduler cancels its job tasks at shutdown,
        # and a tick cancelled half-way through a transaction would race the database's
        # disposal. Shielded, the tick finishes and `run` waits for it.
        if self._in_flight is None or self._in_flight.done():
            self._in_flight = asyncio.create_task(self.tick())
        try:
            await asyncio.shield(self._in_flight)
        except asyncio.CancelledError:
            if not self._stopped:
                raise
            # APScheduler cancels its job at shutdown (Ctrl-C during a tick): not a failure,
            # the tick itself runs on and `run` waits for it.

    async def run(self, stop: asyncio.Event) -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_job(
            self._fire,
            IntervalTrigger(seconds=self.interval_seconds),
            id="kudos-pulse-tick",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),  # real time: APScheduler runs on the wall clock
        )
        scheduler.start()
        try:
            await stop.wait()
        finally:
            self._stopped = True  # a firing that starts from now on does nothing
            scheduler.shutdown(wait=False)
            if self._in_flight is not None:  # the application bounds this wait
                await asyncio.wait([self._in_flight])
