from __future__ import annotations

import asyncio
from datetime import datetime

from bot.runtime.clock import ManualClock
from bot.runtime.scheduler import Scheduler
from tests.conftest import START


async def test_each_tick_runs_all_work_and_a_failure_does_not_stop_the_rest() -> None:
    seen: list[tuple[str, datetime]] = []
    scheduler = Scheduler(ManualClock(START))

    async def broken(now: datetime) -> None:
        raise RuntimeError("boom")

    async def pulses(now: datetime) -> None:
        seen.append(("pulses", now))

    scheduler.register("broken", broken)
    scheduler.register("pulses", pulses)
    await scheduler.tick()
    assert seen == [("pulses", START)]


async def test_apscheduler_drives_the_ticks() -> None:
    ticked = asyncio.Event()
    scheduler = Scheduler(ManualClock(START), interval_seconds=0.05)

    async def work(now: datetime) -> None:
        if scheduler.ticks >= 2:
            ticked.set()

    scheduler.register("work", work)
    stop = asyncio.Event()
    runner = asyncio.create_task(scheduler.run(stop))
    await asyncio.wait_for(ticked.wait(), timeout=5)
    stop.set()
    await runner
    assert scheduler.ticks >= 2


async def test_stopping_waits_for_a_tick_in_flight_and_starts_no_more() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[datetime] = []
    scheduler = Scheduler(ManualClock(START), interval_seconds=0.01)

    async def slow(now: datetime) -> None:
        started.set()
        await release.wait()
        finished.append(now)

    scheduler.register("slow", slow)
    stop = asyncio.Event()
    runner = asyncio.create_task(scheduler.run(stop))
    await asyncio.wait_for(started.wait(), timeout=5)
    stop.set()
    await asyncio.sleep(0.05)
    assert not runner.done()  # still waiting for the tick that is running
    release.set()
    await asyncio.wait_for(runner, timeout=5)
    assert len(finished) == 1
    await scheduler.tick()  # after stopping, a late firing does nothing
    assert len(finished) == 1
