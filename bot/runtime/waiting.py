"""Waiting on several events at once (a stop signal and a wake-up, say)."""

from __future__ import annotations

import asyncio
import contextlib


async def first_of(*events: asyncio.Event, seconds: float | None = None) -> None:
    """Until one of `events` is set, or `seconds` have passed."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*waiters, return_exceptions=True)
