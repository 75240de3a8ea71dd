"""Real bot processes: killed mid-round and restarted, or two at once on one PostgreSQL.

Both deliver to a recording chat service in this test process, so "exactly one question per
recipient" is observed where the messages arrive."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from storage.db import Database
from storage.models import OutboxItem, PulseDelivery, PulseRound, PulseSchedule
from storage.repositories import people, workspaces
from tests.conftest import ON_POSTGRES, ROOT
from tests.harness.fakes.recording_chat import RecordingChat
from tests.harness.helpers import count

pytestmark = pytest.mark.slow
RECIPIENTS = [f"u{n:03d}" for n in range(60)]


async def _due_pulse(db: Database) -> None:
    """A one-off pulse to 60 people, due now by the real clock."""
    now = datetime.now(UTC)
    async with db.write() as unit:
        session = unit.session
        workspace = await workspaces.ensure(unit, "console", "local", now)
        assert workspace.id is not None
        owner = await people.save(
            unit,
            workspace.id,
            "admin",
            display_name="admin",
            timezone="UTC",
            is_bot=False,
            is_platform_admin=False,
            now=now,
        )
        session.add(
            PulseSchedule(
                workspace_id=workspace.id,
                owner_id=owner.id or 0,
                subject="the crash test",
                audience={"kind": "users", "user_ids": RECIPIENTS},
                cron=None,
                timezone="UTC",
                open_minutes=60,
                status="active",
                next_fire_at=now,
                created_at=now,
            )
        )


def _start(
    database_url: str, chat: RecordingChat, per_second: float, log: Path
) -> subprocess.Popen[bytes]:
    output = log.open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.harness.fakes.pulse_process",
            database_url,
            chat.url,
            str(per_second),
            "2",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=output,
        stderr=subprocess.STDOUT,
    )


async def _wait_for(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def chat() -> AsyncIterator[RecordingChat]:
    service = await RecordingChat(delay=0.3).start()
    yield service
    await service.stop()


async def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ask politely, then insist — waiting in a thread, so the chat service keeps answering."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 15)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


async def _all_sent(db: Database) -> bool:
    # One query: counting "not sent" and "all" separately races with the round's creation.
    return await count(db, OutboxItem, OutboxItem.status == "sent") == len(RECIPIENTS)


async def test_a_killed_process_restarted_leaves_everyone_with_exactly_one_question(
    db: Database, database_url: str, chat: RecordingChat, tmp_path: Path
) -> None:
    await _due_pulse(db)
    first = _start(database_url, chat, per_second=20, log=tmp_path / "bot.log")
    try:
        await _wait_for(lambda: _ready(len(chat.received) >= 15), 60, "the first deliveries")
        first.send_signal(signal.SIGKILL)  # mid-round, with requests in flight
        await asyncio.to_thread(first.wait)
    finally:
        await _stop(first)
    assert len(chat.received) < len(RECIPIENTS), "the kill came too late to test anything"
    # Some questions arrived but the dead process never recorded them as sent: the restart
    # must recognise those (find_delivered) instead of asking again.
    async with db.read() as unit:
        session = unit.session
        unsettled = {
            row.dedupe_key
            for row in (await session.exec(select(OutboxItem))).all()
            if row.status != "sent"
        }
    assert unsettled & {key for key, _ in chat.received}

    second = _start(database_url, chat, per_second=20, log=tmp_path / "bot.log")
    try:
        await _wait_for(lambda: _all_sent(db), 90, "every question to be delivered")
    finally:
        await _stop(second)

    assert chat.per_user == {user: 1 for user in RECIPIENTS}, (tmp_path / "bot.log").read_text()
    assert len(chat.received) == len(RECIPIENTS)
    assert await count(db, PulseRound) == 1
    assert await count(db, PulseDelivery) == len(RECIPIENTS)


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="several processes coordinate through PostgreSQL row locks; SQLite runs one writer",
)
async def test_two_processes_on_one_database_send_one_round_once(
    db: Database, database_url: str, chat: RecordingChat, tmp_path: Path
) -> None:
    await _due_pulse(db)
    processes = [
        _start(database_url, chat, per_second=20, log=tmp_path / "bot.log") for _ in range(2)
    ]
    try:
        await _wait_for(lambda: _all_sent(db), 90, "every question to be delivered")
    finally:
        for process in processes:
            await _stop(process)

    async with db.read() as unit:
        session = unit.session
        rows = [
            (r.dedupe_key, r.status, r.sent_at, r.platform_ref, r.claimed_by, r.attempts)
            for r in (await session.exec(select(OutboxItem))).all()
        ]
    assert chat.per_user == {user: 1 for user in RECIPIENTS}, (
        repr(rows[:5]) + "\n" + (tmp_path / "bot.log").read_text()[-3000:]
    )
    assert len(chat.received) == len(RECIPIENTS)
    assert await count(db, PulseRound) == 1
    assert await count(db, PulseDelivery) == len(RECIPIENTS)


async def _ready(value: bool) -> bool:
    return value
