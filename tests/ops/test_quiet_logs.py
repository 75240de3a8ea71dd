"""At the default level the log carries what an operator acts on: no alembic lines for each
probe or start, no APScheduler lines for each tick (DEBUG still shows them)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from bot.ops import logsetup
from bot.runtime.clock import SystemClock
from bot.runtime.scheduler import Scheduler
from tests.conftest import ROOT


def migrate(tmp_path: Path, *options: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(ROOT / "app.yaml"), *options, "migrate"],
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_migrate_at_the_default_level_logs_no_alembic_lines(tmp_path: Path) -> None:
    assert "alembic" not in migrate(tmp_path)
    assert "alembic" in migrate(tmp_path, "--log-level", "DEBUG")


async def ticks_logged(level: str) -> str:
    stream = io.StringIO()
    logsetup.configure(level=level, stream=stream)
    scheduler = Scheduler(SystemClock(), interval_seconds=3600)
    ticked, stop = asyncio.Event(), asyncio.Event()

    async def work(_now: datetime) -> None:
        ticked.set()

    scheduler.register("test", work)
    running = asyncio.create_task(scheduler.run(stop))
    await ticked.wait()  # the first tick fires at once
    stop.set()
    await running
    return stream.getvalue()


async def test_scheduler_ticks_are_quiet_at_the_default_level() -> None:
    try:
        assert "apscheduler" not in await ticks_logged("INFO")
        assert "apscheduler" in await ticks_logged("DEBUG")
    finally:
        logsetup.configure(level="WARNING")
