"""The inbox starts a request when it is accepted: the row is written afterwards, already
done when the handler finished first; a copy of a key seen lately, or a platform's retry, waits
for the door; a process that also acknowledges runs requests one at a time in a rush, and a
shutdown in the middle hands the rest back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlmodel import select

from bot.runtime.clock import ManualClock
from bot.runtime.inbox import BUSY_CLAIM, Inbox, InboxSettings
from storage.db import Database
from storage.models import InboxItem

pytestmark = pytest.mark.asyncio


async def _rows(db: Database) -> dict[str, InboxItem]:
    async with db.read() as unit:
        found = await unit.session.exec(select(InboxItem).order_by(InboxItem.id))
        return {row.key: row for row in found.all()}


async def test_a_request_runs_before_its_row_is_written_and_is_stored_done(
    db: Database, clock: ManualClock
) -> None:
    inbox = Inbox(db, clock)
    handled: list[str] = []
    rows_seen_by_handler: list[int] = []

    async def handle(payload: dict[str, Any]) -> None:
        rows_seen_by_handler.append(len(await _rows(db)))
        handled.append(payload["id"])

    inbox.register("test.event", handle)
    inbox.accept("test.event", "Ev1", {"id": "first"})
    await asyncio.sleep(0.05)  # the handler runs; no writer is running, nothing is stored
    assert handled == ["first"] and rows_seen_by_handler == [0]

    await inbox.write_buffered()
    row = (await _rows(db))["Ev1"]
    # One row, written done: its key kept (a redelivery is dropped), what was sent is not.
    assert (row.status, row.attempts, row.payload, row.claimed_by) == ("done", 1, None, None)


async def test_a_request_still_running_is_written_claimed_then_marked_done(
    db: Database, clock: ManualClock
) -> None:
    inbox = Inbox(db, clock)
    release = asyncio.Event()

    async def slow(payload: dict[str, Any]) -> None:
        await release.wait()

    inbox.register("test.slow", slow)
    inbox.accept("test.slow", "Ev-slow", {})
    await asyncio.sleep(0)
    await inbox.write_buffered()  # the writer's window ended while the handler ran
    row = (await _rows(db))["Ev-slow"]
    assert (row.status, row.claimed_by, row.payload) == ("working", inbox.worker_id, {})

    release.set()
    await inbox.drain()
    row = (await _rows(db))["Ev-slow"]
    assert (row.status, row.payload, row.claimed_by) == ("done", None, None)


async def test_copies_wait_for_the_door_and_run_once(db: Database, clock: ManualClock) -> None:
    inbox = Inbox(db, clock)
    seen: list[str] = []

    async def handle(payload: dict[str, Any]) -> None:
        seen.append(payload["copy"])

    inbox.register("test.event", handle)
    inbox.accept("test.event", "Ev2", {"copy": "first"})
    inbox.accept("test.event", "Ev2", {"copy": "second, moments later"})
    await inbox.drain()
    # The platform's own retry, arriving at a process that never saw the first copy.
    other = Inbox(db, clock)
    other.register("test.event", handle)
    other.accept("test.event", "Ev2", {"copy": "retried"}, redelivery=True)
    await other.drain()

    assert seen == ["first"]
    assert [row.status for row in (await _rows(db)).values()] == ["done"]


async def test_busy_beside_acks_runs_one_at_a_time_and_hands_back_the_rest_at_shutdown(
    db: Database, clock: ManualClock
) -> None:
    inbox = Inbox(db, clock, InboxSettings(slots=4, busy_per_second=1))
    inbox.shares_loop_with_acks = True
    running: list[str] = []
    most_at_once = 0
    release = asyncio.Event()

    async def handle(payload: dict[str, Any]) -> None:
        nonlocal most_at_once
        running.append(payload["n"])
        most_at_once = max(most_at_once, len(inbox._running))
        if payload["n"] == "3":
            await release.wait()

    inbox.register("test.event", handle)
    for number in range(12):  # a rush (here: from the first request on)
        inbox.accept("test.event", f"Ev-{number}", {"n": str(number)})
    await inbox.write_buffered()  # the first started at once; the rest are stored waiting
    await inbox.claim_and_start()  # a batch claimed, to run one after another
    await asyncio.sleep(0.05)
    assert most_at_once == 1
    assert running == ["0", "1", "2", "3"]  # "3" holds its turn

    await inbox.close()  # shutdown: "3" is cut short, the rest of its batch is handed back
    rows = await _rows(db)
    claimed_in_batch = [f"Ev-{n}" for n in range(1, 1 + BUSY_CLAIM)]
    assert {rows[key].status for key in claimed_in_batch[:2]} == {"done"}
    assert {rows[key].status for key in claimed_in_batch[2:]} == {"pending"}
    assert {rows[key].claimed_by for key in claimed_in_batch[2:]} == {None}
