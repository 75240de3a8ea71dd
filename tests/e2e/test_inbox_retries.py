"""The inbox on its own: a failing handler is retried a little later, then given up; old keys
are forgotten; several workers never run one request twice at the same time."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.runtime.clock import ManualClock
from bot.runtime.inbox import KEY_MEMORY, MAX_ATTEMPTS, RETRY_SECONDS, Inbox
from storage.db import Database
from storage.models import InboxItem

pytestmark = pytest.mark.asyncio


async def _rows(db: Database) -> list[InboxItem]:
    async with db.read() as unit:
        session = unit.session
        return list((await session.exec(select(InboxItem).order_by(InboxItem.id))).all())


async def test_a_failing_handler_is_retried_later_then_given_up(
    db: Database, clock: ManualClock
) -> None:
    inbox = Inbox(db, clock)
    calls: list[dict[str, Any]] = []

    async def flaky(payload: dict[str, Any]) -> None:
        calls.append(payload)
        if len(calls) < 2:
            raise RuntimeError("the platform hiccuped")

    async def broken(payload: dict[str, Any]) -> None:
        calls.append(payload)
        raise RuntimeError("always")

    inbox.register("test.flaky", flaky)
    inbox.register("test.broken", broken)
    inbox.accept("test.flaky", "k-flaky", {"n": 1})
    inbox.accept("test.broken", "k-broken", {"n": 2})
    await inbox.drain()
    assert len(calls) == 2
    flaky_row, broken_row = await _rows(db)
    assert (flaky_row.status, flaky_row.attempts) == ("pending", 1)
    assert flaky_row.available_at == clock.now() + timedelta(seconds=RETRY_SECONDS)
    assert flaky_row.last_error == "RuntimeError: the platform hiccuped"

    await inbox.drain()  # not due yet
    assert len(calls) == 2
    for attempt in range(2, MAX_ATTEMPTS + 1):
        clock.advance(timedelta(seconds=RETRY_SECONDS * attempt))
        await inbox.drain()

    flaky_row, broken_row = await _rows(db)
    assert (flaky_row.status, flaky_row.attempts, flaky_row.payload) == ("done", 2, None)
    assert (broken_row.status, broken_row.attempts, broken_row.payload) == (
        "failed",
        MAX_ATTEMPTS,
        None,
    )
    assert broken_row.last_error == "RuntimeError: always"
    assert [call["n"] for call in calls].count(2) == MAX_ATTEMPTS


async def test_handled_keys_are_remembered_for_two_days_then_forgotten(
    db: Database, clock: ManualClock
) -> None:
    inbox = Inbox(db, clock)
    seen: list[str] = []

    async def handle(payload: dict[str, Any]) -> None:
        seen.append(payload["id"])

    inbox.register("test.event", handle)
    inbox.accept("test.event", "Ev1", {"id": "first"})
    await inbox.drain()
    clock.advance(KEY_MEMORY - timedelta(minutes=1))
    inbox.accept("test.event", "Ev1", {"id": "redelivered"})
    await inbox.drain()
    assert seen == ["first"]

    clock.advance(timedelta(minutes=2))
    await inbox._purge()
    assert await _rows(db) == []


async def test_two_workers_share_a_backlog_without_running_anything_twice(
    db: Database, clock: ManualClock
) -> None:
    """On PostgreSQL the claims race on row locks (SKIP LOCKED); on SQLite they take turns."""
    writer = Inbox(db, clock)
    writer.works_here = False  # a process that only acknowledges
    for n in range(40):
        writer.accept("test.job", f"job-{n}", {"n": n})
    assert await writer.write_buffered() == 40

    ran: list[tuple[str, int]] = []

    def worker(name: str) -> Inbox:
        inbox = Inbox(db, clock, worker_id=name)

        async def job(payload: dict[str, Any]) -> None:
            await asyncio.sleep(0.001)
            ran.append((name, payload["n"]))

        inbox.register("test.job", job)
        return inbox

    first, second = worker("w1"), worker("w2")
    await asyncio.gather(first.drain(), second.drain())

    assert sorted(n for _, n in ran) == list(range(40))
    assert {status for status in (row.status for row in await _rows(db))} == {"done"}
