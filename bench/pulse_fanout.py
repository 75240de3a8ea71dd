"""Pulse fan-out benchmark: one round to 5,000 people through the real outbox, against a fake
Slack Web API on 127.0.0.1 (in its own process) that accepts 50 chat.postMessage per second
and answers 429 + Retry-After beyond that.

    .venv/bin/python bench/pulse_fanout.py [--recipients 5000] [--limit 50] [--database-url URL]

The bot side is the real Slack platform (`adapters.slack`): the channel's members come from
`conversations.members`, the questions go out through the Slack sender (chat.postMessage to
each user id, the outbox key in the message metadata, 429 → Retry-After).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.slack.clients import SlackClients
from adapters.slack.platform import SlackPlatform
from bot.app import Application
from bot.ops.config import OutboxSettings, SlackSettings, load_config
from bot.people.actor import Actor
from storage import migrate
from storage.db import Database
from storage.models import OutboxItem
from tests.harness.helpers import count

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = "T0BENCH"
ADMIN = "U0ADMIN"
CHANNEL = "C0ALLHANDS"


def make_platform(api_url: str) -> SlackPlatform:
    """The real Slack platform (directory + sender), its Web API pointed at the fake."""
    settings = SlackSettings(bot_token="xoxb-bench", api_url=api_url)
    return SlackPlatform(SlackClients(settings))


class SlackProcess:
    """The fake Slack Web API in its own process, like the real one."""

    def __init__(self, limit: int, members: int) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.harness.fakes.rate_limited_slack",
                str(limit),
                str(members),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().decode().strip()
        self.base = self.url.removesuffix("/api/")

    async def all_received(self, distinct: int) -> None:
        timeout = aiohttp.ClientTimeout(total=None)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.get(f"{self.base}/wait", params={"distinct": distinct}) as answer:
                answer.raise_for_status()

    async def stats(self) -> tuple[Counter[str], int]:
        async with aiohttp.ClientSession() as http, http.get(f"{self.base}/stats") as answer:
            body = await answer.json()
        return Counter(body["accepted"]), int(body["rejected"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


async def run(recipients: int, limit: int, database_url: str | None) -> dict[str, object]:
    slack = SlackProcess(limit, recipients)
    members = [f"U{n:07d}" for n in range(recipients)]
    with tempfile.TemporaryDirectory() as scratch:
        url = database_url or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
        config = load_config(None, env={}).model_copy(
            update={
                "database_url": url,
                "admins": [ADMIN],
                "outbox": OutboxSettings(slack_per_second=limit),
            }
        )
        db = Database(url)
        await migrate.upgrade(db)
        app = Application(config, db=db)
        platform = make_platform(slack.url)
        app.add_platform(platform)
        admin = Actor(platform="slack", workspace_id=WORKSPACE, user_id=ADMIN)

        started = time.monotonic()
        reply = await app.core.handle_text(
            admin, f'/pulse now "the fan-out benchmark" to <#{CHANNEL}>'
        )
        enqueued = time.monotonic()
        assert reply.ok, reply.messages[0].text
        worker = asyncio.create_task(app.outbox.run(app.stopping, idle_seconds=0.2))
        await slack.all_received(recipients)
        finished = time.monotonic()
        # Let anything still in flight settle before stopping.
        while True:
            if await count(db, OutboxItem, OutboxItem.status != "sent") == 0:
                break
            await asyncio.sleep(0.05)
        app.stopping.set()
        await worker
        await platform.clients.close()
        await db.dispose()
    accepted, rejected = await slack.stats()
    slack.stop()

    expected = {f"pulse:1:ask:{member}" for member in members}
    wall = finished - started
    ideal = recipients / limit
    return {
        "recipients": recipients,
        "limit_per_second": limit,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "enqueue_seconds": round(enqueued - started, 2),
        "wall_seconds": round(wall, 2),
        "ideal_seconds": round(ideal, 2),
        "ratio": round(wall / ideal, 3),
        "http_429": rejected,
        "lost": len(expected - set(accepted)),
        "duplicated": sum(n - 1 for n in accepted.values() if n > 1),
        "unexpected": len(set(accepted) - expected),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=50, help="fake Slack calls per second")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    result = asyncio.run(run(args.recipients, args.limit, args.database_url))
    for key, value in result.items():
        print(f"{key:18} {value}")


if __name__ == "__main__":
    main()
