"""Slack acks under a flood of large unsigned bodies, and what the flood adds to the log.

    .venv/bin/python bench/slack_flood.py [--rate 50] [--seconds 15] [--senders 3]

Starts the fake Slack Web API and the real bot (`python -m bot run`, logging at INFO, its
default) on 127.0.0.1, then sends signed `/kudos` commands open loop at `--rate` for
`--seconds` twice in the same run: alone, and while `--senders` clients each post unsigned
0.9 MB bodies to /slack/events back to back. Prints p50/p99 of the valid acks in both
windows, their ratio (target ≤ 2), the rejected requests and the log bytes per rejection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from slack_ack import BLOCK, GROUPS, PEOPLE, load, spawn, spawn_bot, stop

FLOOD_BODY = b"payload=" + b"x" * (900 * 1024)


async def flood(url: str, stop_at: float, counts: dict[int, int]) -> None:
    """One sender: unsigned 0.9 MB bodies, back to back, until `stop_at`."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() < stop_at:
            try:
                async with session.post(url, data=FLOOD_BODY, headers=headers) as response:
                    await response.read()
                    counts[response.status] = counts.get(response.status, 0) + 1
            except aiohttp.ClientError:
                counts[0] = counts.get(0, 0) + 1  # the server closed on a rejected body


async def main_async(options: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="slack_flood_") as tmp:
        database_url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        fake, fake_port = spawn(
            "-m", "tests.harness.fakes.slack_api", "--people", str(GROUPS * PEOPLE)
        )
        fake_url = f"http://127.0.0.1:{fake_port}"
        log = Path(tmp) / "bot.log"
        # At INFO, as deployed: the log growth per rejected request is part of what is measured.
        bot, bot_port = spawn_bot(f"{fake_url}/api/", database_url, None, log, log_level="INFO")
        target = {"bot": f"http://127.0.0.1:{bot_port}/slack/events"}
        try:
            await load(target, fake_url, rate=20, seconds=2, first=3 * BLOCK)  # warm-up
            quiet = (await load(target, fake_url, options.rate, options.seconds))["bot"]
            log_before = log.stat().st_size
            counts: dict[int, int] = {}
            stop_at = time.perf_counter() + options.seconds + 0.2
            senders = [
                asyncio.create_task(flood(target["bot"], stop_at, counts))
                for _ in range(options.senders)
            ]
            flooded = (await load(target, fake_url, options.rate, options.seconds, first=BLOCK))[
                "bot"
            ]
            await asyncio.gather(*senders)
            log_growth = log.stat().st_size - log_before
        finally:
            stop(bot)
            stop(fake)
    rejected = sum(counts.values())  # JSON keys: statuses as text, "0" a closed connection
    print(f"{options.rate:g} signed /kudos per s for {options.seconds:g} s, each window")
    print(f"  {quiet.line('alone')}")
    print(f"  {flooded.line('flood')}")
    print(f"  flood: {options.senders} senders, {rejected} bodies of 0.9 MB, statuses {counts}")
    print(f"  p99 ratio flood/alone = {flooded.p99() / quiet.p99():.2f}  (target ≤ 2)")
    print(
        f"  log growth during the flood: {log_growth} bytes"
        f" ({log_growth / max(rejected, 1):.1f} bytes per rejected request)"
    )
    return 0


async def flood_role(options: argparse.Namespace) -> None:
    counts: dict[int, int] = {}
    stop_at = time.perf_counter() + options.seconds
    await asyncio.gather(*(flood(options.url, stop_at, counts) for _ in range(options.senders)))
    print(json.dumps(counts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--senders", type=int, default=3)
    parser.add_argument("--role", choices=["flood"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.role == "flood":
        asyncio.run(flood_role(options))
        return 0
    return asyncio.run(main_async(options))


if __name__ == "__main__":
    raise SystemExit(main())
