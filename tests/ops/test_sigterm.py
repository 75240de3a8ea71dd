"""SIGTERM in the middle of a fan-out: the bot stops within 10 s with exit code 0, nothing in
flight is lost or left claimed, and after a restart every message arrived exactly once."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from sqlmodel import select

from bot.app import Application
from bot.messages import Message, ToPerson
from bot.runtime import outbox
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import OutboxItem
from storage.repositories import workspaces
from tests.conftest import ROOT
from tests.harness.fakes.recording_chat import RecordingChat

WORKSPACES = 12
PER_WORKSPACE = 25
TOTAL = WORKSPACES * PER_WORKSPACE


@pytest.fixture
async def recorder() -> AsyncIterator[RecordingChat]:
    """The far side of the recording platform; a platform takes a moment to answer."""
    chat = await RecordingChat(delay=0.02).start()
    yield chat
    await chat.stop()


async def _fan_out(db: Database, clock: ManualClock) -> None:
    """TOTAL direct messages over WORKSPACES workspaces, interleaved as a pulse fan-out is."""
    async with db.write() as session:
        ids = []
        for n in range(WORKSPACES):
            workspace = await workspaces.ensure(session, "recording", f"T{n:02d}", clock.now())
            ids.append(workspace.id)
        for person in range(PER_WORKSPACE):
            for n, workspace_id in enumerate(ids):
                assert workspace_id is not None
                await outbox.enqueue(
                    session,
                    workspace_id=workspace_id,
                    platform="recording",
                    key=f"fanout:T{n:02d}:U{person:03d}",
                    message=Message(
                        audience=ToPerson(user_id=f"U{person:03d}"), text="How was it?"
                    ),
                    now=clock.now(),
                )


async def _start_bot(database_url: str, recorder: RecordingChat) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "KUDOS_PULSE_CONFIG": str(ROOT / "app.yaml"),
        "RECORDING_URL": recorder.url,
        "LOG_FORMAT": "json",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.harness.fakes.run_recording_bot",
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def _until(
    bot: asyncio.subprocess.Process, condition: Callable[[], bool], limit: float
) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if bot.returncode is not None:
            _, stderr = await bot.communicate()
            pytest.fail(f"the bot exited early ({bot.returncode}): {stderr.decode()[-3000:]}")
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def _terminate(bot: asyncio.subprocess.Process) -> float:
    started = time.monotonic()
    bot.send_signal(signal.SIGTERM)
    try:
        _, stderr = await asyncio.wait_for(bot.communicate(), timeout=15)
    except TimeoutError:
        bot.kill()
        raise
    took = time.monotonic() - started
    assert bot.returncode == 0, stderr.decode()[-3000:]
    return took


async def _statuses(db: Database) -> Counter[str]:
    async with db.read() as unit:
        session = unit.session
        return Counter((await session.exec(select(OutboxItem.status))).all())


@pytest.mark.slow
async def test_sigterm_mid_fan_out_loses_nothing_and_sends_nothing_twice(
    db: Database, clock: ManualClock, database_url: str, recorder: RecordingChat
) -> None:
    await _fan_out(db, clock)

    bot = await _start_bot(database_url, recorder)
    try:
        await _until(bot, lambda: len(recorder.received) >= TOTAL // 5, 90)
    except BaseException:
        bot.kill()
        raise
    took = await _terminate(bot)
    assert took < 10, f"shutdown took {took:.1f}s"

    first_run = len(recorder.received)
    assert first_run < TOTAL, "the fan-out should still have been under way"
    statuses = await _statuses(db)
    # In-flight sends finished and were recorded; nothing stays claimed by the dead process.
    assert statuses["sending"] == 0
    assert statuses["sent"] == first_run
    assert statuses["pending"] == TOTAL - first_run

    bot = await _start_bot(database_url, recorder)
    try:
        await _until(bot, lambda: len(recorder.per_key) == TOTAL, 120)
    except BaseException:
        bot.kill()
        raise
    await asyncio.sleep(0.5)  # anything sent twice would arrive now
    assert await _terminate(bot) < 10

    assert set(recorder.per_key.values()) == {1}
    assert len(recorder.per_key) == TOTAL
    assert await _statuses(db) == Counter({"sent": TOTAL})


async def test_the_web_server_stops_accepting_once_stopping(
    app: Application, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.app")
    serving = asyncio.create_task(app.serve("127.0.0.1", 0))
    await _until_logged(caplog, serving)
    port = int(re.search(r"listening on 127\.0\.0\.1:(\d+)", caplog.text).group(1))  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
            assert answer.status == 200
        started = time.monotonic()
        app.stopping.set()  # what the SIGTERM handler does
        await asyncio.wait_for(serving, timeout=10)
        assert time.monotonic() - started < 10
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://127.0.0.1:{port}/healthz")


async def _until_logged(caplog: pytest.LogCaptureFixture, serving: asyncio.Task[None]) -> None:
    deadline = time.monotonic() + 10
    while "listening on" not in caplog.text:
        assert not serving.done(), serving
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
