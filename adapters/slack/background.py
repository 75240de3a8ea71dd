"""Work that runs after Slack has its acknowledgement: tracked, bounded, awaited at shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class BackgroundWork:
    def __init__(self, concurrency: int = 4) -> None:
        # Bounded, so a burst of commands queues here instead of exhausting the database pool
        # (and, on PostgreSQL, churning connections) or crowding the acks out of the loop.
        self._limit = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._work: dict[asyncio.Task[Any], Coroutine[Any, Any, Any]] = {}

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    def spawn(
        self, work: Coroutine[Any, Any, T], name: str = "slack-work", *, bounded: bool = True
    ) -> asyncio.Task[T]:
        """Run `work` after the ack. Bounded work (the core: database and rules) waits for one
        of the few slots; unbounded work only waits on Slack (posting an answer)."""
        task = asyncio.create_task(self._bounded(work) if bounded else work, name=name)
        self._tasks.add(task)
        self._work[task] = work
        task.add_done_callback(self._finished)
        return task

    async def _bounded(self, work: Coroutine[Any, Any, T]) -> T:
        async with self._limit:
            return await work

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        # Cancelled before it started: close it, so it is not reported as "never awaited".
        self._work.pop(task).close()
        if not task.cancelled() and task.exception() is not None:
            log.error("slack background work failed", exc_info=task.exception())

    async def drain(self, seconds: float = 10.0) -> None:
        """Wait until nothing is in flight (including work started by work)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self._tasks:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=remaining)

    async def shutdown(self, seconds: float = 5.0) -> None:
        """Give in-flight work a few seconds to finish, then cancel what is left."""
        await self.drain(seconds)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
