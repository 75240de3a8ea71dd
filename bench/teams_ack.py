"""Teams acknowledgement latency: POST /api/messages → 201, with the in-turn reply included.

Runs the real app (SQLite in a temp dir, or DATABASE_URL) against the loopback fake connector:
each request is one person giving kudos in their personal chat. Prints p50/p95/p99/max.

    .venv/bin/python bench/teams_ack.py [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import Application
from bot.ops.config import load_config
from tests.harness.fakes.bot_connector import FakeConnector, start_connector
from tests.harness.teams import PEOPLE, TeamsChat, serve, uid

ROOT = Path(__file__).resolve().parent.parent


async def measure(requests: int, database_url: str) -> list[float]:
    config = load_config(ROOT / "app.yaml", env={}).model_copy(
        update={"database_url": database_url}
    )
    app = Application(config)
    await app.prepare()
    connector = FakeConnector()
    givers = [f"giver{index}" for index in range(requests // 5 + 1)]
    for name in (*PEOPLE, *givers):
        connector.add_member(uid(name), name.title())
    connector_runner = await start_connector(connector)
    platform = app.load_adapter("teams")
    runner, url = await serve(app.web)
    timings: list[float] = []
    async with aiohttp.ClientSession() as http:
        chat = TeamsChat(app, connector, platform, http, url)
        for index in range(requests):
            giver = givers[index // 5]
            activity = chat.activity(
                giver, text="kudos <at>Bob</at> for the fast refund fix #easy", mentions=("bob",)
            )
            started = time.perf_counter()
            status = await chat.post(activity)
            timings.append(time.perf_counter() - started)
            assert status == 201, status
    await runner.cleanup()
    await connector_runner.cleanup()
    await app.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{folder}/bench.db"
        timings = sorted(asyncio.run(measure(args.requests, url)))
    quantiles = statistics.quantiles(timings, n=100)
    print(
        f"{len(timings)} requests on {url.split(':')[0]}: "
        f"p50 {quantiles[49] * 1000:.1f} ms, p95 {quantiles[94] * 1000:.1f} ms, "
        f"p99 {quantiles[98] * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
