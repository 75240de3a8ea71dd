"""Two real bot processes tick the same due schedule at the same moment: one digest is sent."""

from __future__ import annotations

import asyncio
import sys

import pytest
from sqlmodel import col

from bot.app import Application
from bot.runtime.clock import ManualClock
from storage.models import DigestRun, OutboxItem
from tests.conftest import ROOT, ConsoleHarness
from tests.e2e.digest_org import DIGEST_TIME, build_support_team
from tests.harness.helpers import count


async def _start(database_url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.digest_tick_process",
        database_url,
        DIGEST_TIME.isoformat(),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )


@pytest.mark.slow
async def test_two_processes_firing_together_send_one_digest(
    console: ConsoleHarness, clock: ManualClock, app: Application, database_url: str
) -> None:
    await build_support_team(console, clock)
    await console.say("/digest schedule team:support every fri at 16:00", as_user="admin")
    await app.db.dispose()  # this process steps aside; the two bot processes do the work

    processes = [await _start(database_url) for _ in range(2)]
    for process in processes:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        assert line.strip() == b"ready"
    for process in processes:  # both are up: let them tick at the same moment
        assert process.stdin is not None
        process.stdin.write(b"go\n")
        await process.stdin.drain()
    outputs = [await asyncio.wait_for(process.communicate(), timeout=60) for process in processes]

    fired = sorted(out.decode().strip() for out, _err in outputs)
    assert fired == ["fired 0", "fired 1"]
    assert all(process.returncode == 0 for process in processes)
    assert await count(app.db, DigestRun) == 1
    assert await count(app.db, OutboxItem, col(OutboxItem.dedupe_key).startswith("digest:")) == 1
