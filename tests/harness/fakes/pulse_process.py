"""A real bot process for crash tests: ticks the scheduler and delivers through `HttpPlatform`.

python -m tests.harness.fakes.pulse_process DATABASE_URL CHAT_URL [PER_SECOND] [LEASE_SECONDS]
"""

from __future__ import annotations

import asyncio
import signal
import sys

from bot.app import Application
from bot.ops.config import OutboxSettings, load_config
from tests.harness.fakes.http_platform import HttpPlatform


async def main(database_url: str, chat_url: str, per_second: float, lease: float) -> None:
    config = load_config(None, env={}).model_copy(
        update={
            "database_url": database_url,
            "outbox": OutboxSettings(console_per_second=per_second, lease_seconds=lease),
        }
    )
    app = Application(config)
    platform = HttpPlatform(chat_url)
    app.add_platform(platform)
    stop = app.stopping
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def ticker() -> None:
        while not stop.is_set():
            await app.scheduler.tick()
            try:
                await asyncio.wait_for(stop.wait(), timeout=0.2)
            except TimeoutError:
                pass

    print("ready", flush=True)
    await asyncio.gather(app.outbox.run(stop, idle_seconds=0.2), ticker())
    await platform.close()
    await app.db.dispose()


if __name__ == "__main__":
    url, chat = sys.argv[1], sys.argv[2]
    rate = float(sys.argv[3]) if len(sys.argv) > 3 else 20.0
    lease_seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
    asyncio.run(main(url, chat, rate, lease_seconds))
