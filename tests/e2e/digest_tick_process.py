"""One bot process for the once-per-period test: start, say "ready", tick on "go", report.

Run as `python -m tests.e2e.digest_tick_process DATABASE_URL ISO_TIME`; prints how many
digests this process enqueued (the scheduler-firings counter)."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime

from bot.app import Application
from bot.ops.metrics import SCHEDULER_FIRINGS
from bot.runtime.clock import ManualClock
from tests.conftest import make_config


async def main(url: str, at: str) -> None:
    app = Application(make_config(database_url=url), clock=ManualClock(datetime.fromisoformat(at)))
    app.load_adapter("console", out=lambda _line: None)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await app.scheduler.tick()
    print(f"fired {int(SCHEDULER_FIRINGS.labels('digest')._value.get())}", flush=True)
    await app.db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
