"""The outbox delivers once, waits out Retry-After, retries temporary failures, gives up on
permanent ones, and recognises a delivery that a crashed worker never recorded."""

from __future__ import annotations

from collections import deque
from datetime import timedelta

from sqlmodel import select

from bot.host import PermanentFailure, RateLimited, TemporaryFailure
from bot.messages import Message, ToPerson
from bot.ops.config import OutboxSettings
from bot.runtime import outbox
from bot.runtime.clock import ManualClock
from bot.runtime.outbox import OutboxWorker
from storage.db import Database
from storage.models import OutboxItem
from storage.repositories import outbox as rows
from storage.repositories import workspaces
from tests.harness.fakes.platform import ScriptedPlatform

FAST = OutboxSettings(console_per_second=1000, max_attempts=3, lease_seconds=30)


async def _queue(db: Database, clock: ManualClock, *keys: str) -> None:
    async with db.write() as session:
        workspace = await workspaces.ensure(session, "console", "local", clock.now())
        assert workspace.id is not None
        for key in keys:
            message = Message(audience=ToPerson(user_id=key), text=f"hello {key}")
            assert await outbox.enqueue(
                session,
                workspace_id=workspace.id,
                platform="console",
                key=key,
                message=message,
                now=clock.now(),
            )
            # Enqueueing the same key again is a no-op.
            assert not await outbox.enqueue(
                session,
                workspace_id=workspace.id,
                platform="console",
                key=key,
                message=message,
                now=clock.now(),
            )


async def _rows(db: Database) -> dict[str, OutboxItem]:
    async with db.read() as unit:
        session = unit.session
        return {row.dedupe_key: row for row in (await session.exec(select(OutboxItem))).all()}


async def test_each_message_is_sent_once(db: Database, clock: ManualClock) -> None:
    platform = ScriptedPlatform()
    worker = OutboxWorker(db, {"console": platform}, clock, FAST)
    await _queue(db, clock, "a", "b", "c")

    await worker.drain()
    await worker.drain()

    assert sorted(key for key, _, _ in platform.sent) == ["a", "b", "c"]
    assert {row.status for row in (await _rows(db)).values()} == {"sent"}


async def test_retry_after_is_honoured(db: Database, clock: ManualClock) -> None:
    platform = ScriptedPlatform(script=deque([RateLimited(30)]))
    worker = OutboxWorker(db, {"console": platform}, clock, FAST)
    await _queue(db, clock, "a")

    await worker.drain()
    row = (await _rows(db))["a"]
    assert row.status == "pending" and platform.sent == []
    assert row.not_before == clock.now() + timedelta(seconds=30)
    assert row.attempts == 0  # a 429 is not the message's fault

    clock.advance(timedelta(seconds=29))
    await worker.drain()
    assert platform.sent == []
    clock.advance(timedelta(seconds=2))
    worker._pacers.clear()  # the in-memory pause uses real time; the clock moved only in the test
    await worker.drain()
    assert [key for key, _, _ in platform.sent] == ["a"]


async def test_temporary_failures_back_off_then_give_up(db: Database, clock: ManualClock) -> None:
    platform = ScriptedPlatform(script=deque([TemporaryFailure("502")] * 5))
    worker = OutboxWorker(db, {"console": platform}, clock, FAST)
    await _queue(db, clock, "a")

    for _ in range(3):
        await worker.drain()
        clock.advance(timedelta(minutes=10))
    row = (await _rows(db))["a"]
    assert row.status == "failed" and row.attempts == 3 and row.last_error == "502"
    assert platform.sent == []


async def test_permanent_failure_is_not_retried(db: Database, clock: ManualClock) -> None:
    platform = ScriptedPlatform(script=deque([PermanentFailure("user_not_found")]))
    worker = OutboxWorker(db, {"console": platform}, clock, FAST)
    await _queue(db, clock, "a", "b")
    await worker.drain()
    rows = await _rows(db)
    assert rows["a"].status == "failed" and rows["a"].last_error == "user_not_found"
    assert rows["b"].status == "sent"


async def test_a_crashed_claim_is_recovered_without_sending_twice(
    db: Database, clock: ManualClock
) -> None:
    platform = ScriptedPlatform()
    await _queue(db, clock, "a", "b")
    # The crashed worker claimed both and delivered "a" but died before recording anything.
    async with db.write() as session:
        await rows.claim_due(
            session,
            worker="crashed",
            now=clock.now(),
            lease=timedelta(seconds=30),
            limit=10,
            platforms=["console"],
        )
    await platform.send(Message(audience=ToPerson(user_id="a"), text="hello a"), key="a")
    survivor = OutboxWorker(db, {"console": platform}, clock, FAST, worker_id="survivor")

    await survivor.drain()
    assert [key for key, _, _ in platform.sent] == ["a"]  # still leased to the dead worker

    clock.advance(timedelta(seconds=31))
    await survivor.drain()
    assert sorted(key for key, _, _ in platform.sent) == ["a", "b"]
    assert survivor.stats.recovered == 1
    assert {row.status for row in (await _rows(db)).values()} == {"sent"}
