"""The loop a queue worker runs: claim while there is work, otherwise wait to be woken."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.ops.metrics import count_database_error
from bot.runtime.waiting import first_of


async def claim_until_stopped(
    stop: asyncio.Event,
    claim: Callable[[], Awaitable[bool]],
    *,
    wake: asyncio.Event,
    idle_seconds: float | Callable[[], float],
    upkeep: Callable[[], Awaitable[None]],
    source: str,
    log: logging.Logger,
    failure: str,
) -> None:
    """Run `claim` until `stop`. It returns True when more may be waiting right now, and then
    runs again at once; otherwise the loop sleeps until `wake` is set (work arrived in this
    process) or `idle_seconds` pass (other processes may have written work that is due); a
    callable gives the pause anew each time.

    `upkeep` runs after every claim and decides itself whether it is due (purging, gauges). A
    claim that raises is counted under `source`, logged as `failure` and tried again after
    the sleep: a database that went away must not stop the worker."""
    while not stop.is_set():
        # Cleared before claiming, not after: a wake-up that arrives while the claim runs (work
        # committed just after the claim looked) makes the loop claim again instead of being
        # lost.
        wake.clear()
        try:
            more = await claim()
        except Exception as error:
            count_database_error(source, error)
            log.exception(failure)
            more = False
        await upkeep()
        if more:
            continue
        pause = idle_seconds() if callable(idle_seconds) else idle_seconds
        await first_of(stop, wake, seconds=pause)
