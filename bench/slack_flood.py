"""Slack acks under a flood of large unsigned bodies, and what the flood adds to the log.

    .venv/bin/python bench/slack_flood.py [--rate 50] [--window 2.5] [--windows 8] [--senders 2]
                                          [--runs 3] [--database-url postgresql+asyncpg://…]

Starts the fake Slack Web API and the real bot (`python -m bot run`, logging at INFO, its
default) on 127.0.0.1, then sends signed `/kudos` commands open loop at `--rate`, in windows of
`--window` seconds that take turns: one alone, one while a separate process of `--senders`
clients posts unsigned 0.9 MB bodies to /slack/events back to back (`--windows` of each, the
order alternating, so drift in the machine's load hits both sides alike). The flood runs in its
own process, as an attacker's would, at a lower CPU priority (`--flood-nice`): sharing the load
generator's event loop it would delay the valid requests before they are even sent, and at full
priority on a 2-core machine it mostly measures the attacker's own CPU crowding out the bot.
Each of `--runs` runs starts a fresh bot; printed per
run and as the median of the runs: p50/p95/p99 of the valid acks on both sides, the p99 ratio
(target ≤ 2), the rejected requests, the log bytes per rejection, and the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from slack_ack import (
    BLOCK,
    GROUPS,
    PEOPLE,
    ROOT,
    Results,
    cpu_seconds,
    load,
    spawn,
    spawn_bot,
    stop,
)

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


def start_flood(url: str, seconds: float, senders: int, nice: int) -> subprocess.Popen[str]:
    """The flood, in its own process, for `seconds`; it prints its counts when done. `nice`:
    an attacker's CPU is on their machine, not ours — on a 2-core machine a sender at full
    priority would mostly measure itself crowding out the bot."""
    return subprocess.Popen(
        [
            "nice",
            f"-n{nice}",
            sys.executable,
            str(Path(__file__).resolve()),
            "--role=flood",
            f"--url={url}",
            f"--seconds={seconds}",
            f"--senders={senders}",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def finish_flood(process: subprocess.Popen[str]) -> tuple[dict[str, int], float]:
    """The flood's answers by status, and the CPU seconds the flood itself used."""
    out, _ = process.communicate(timeout=120)
    report = json.loads(out.strip().splitlines()[-1])
    return report["counts"], report["cpu"]


def merged(parts: list[Results]) -> Results:
    total = Results()
    for part in parts:
        total.latencies += part.latencies
        total.errors += part.errors
        total.slow += part.slow
    return total


def quantiles(results: Results) -> tuple[float, float, float]:
    q = statistics.quantiles(sorted(results.latencies), n=100, method="inclusive")
    return q[49], q[94], q[98]


def migrate(database_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "bot", "--log-level", "WARNING", "migrate"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


async def one_run(options: argparse.Namespace, tmp: Path, number: int) -> dict[str, object]:
    database_url = options.database_url or f"sqlite+aiosqlite:///{tmp}/bench{number}.db"
    if options.database_url:
        migrate(database_url)
    fake, fake_port = spawn("-m", "tests.harness.fakes.slack_api", "--people", str(GROUPS * PEOPLE))
    fake_url = f"http://127.0.0.1:{fake_port}"
    log = tmp / f"bot{number}.log"
    # At INFO, as deployed: the log growth per rejected request is part of what is measured.
    bot, bot_port = spawn_bot(f"{fake_url}/api/", database_url, None, log, log_level="INFO")
    target = {"bot": f"http://127.0.0.1:{bot_port}/slack/events"}
    alone: list[Results] = []
    flooded: list[Results] = []
    counts: dict[str, int] = {}
    log_growth = 0
    cpu = {False: 0.0, True: 0.0}  # the bot's CPU seconds alone / flooded
    flood_cpu = 0.0
    per_window = int(options.rate * options.window)
    load_before = os.getloadavg()
    try:
        await load(target, fake_url, rate=20, seconds=2, first=3 * BLOCK)  # warm-up
        for window in range(options.windows):
            # Alone then flooded, then flooded then alone, and so on.
            for flooding in (False, True) if window % 2 == 0 else (True, False):
                first = (BLOCK if flooding else 0) + window * per_window
                if not flooding:
                    used = cpu_seconds(bot)
                    window_results = await load(
                        target, fake_url, options.rate, options.window, first=first
                    )
                    cpu[False] += cpu_seconds(bot) - used
                    alone.append(window_results["bot"])
                    continue
                size_before = log.stat().st_size
                sender = start_flood(
                    target["bot"], options.window + 1.0, options.senders, options.flood_nice
                )
                await asyncio.sleep(0.5)  # the senders are connected and sending
                used = cpu_seconds(bot)
                window_results = await load(
                    target, fake_url, options.rate, options.window, first=first
                )
                cpu[True] += cpu_seconds(bot) - used
                flooded.append(window_results["bot"])
                statuses, spent = finish_flood(sender)
                flood_cpu += spent
                for status, n in statuses.items():
                    counts[status] = counts.get(status, 0) + n
                log_growth += log.stat().st_size - size_before
    finally:
        stop(bot)
        stop(fake)
    quiet, noisy = merged(alone), merged(flooded)
    rejected = sum(counts.values())
    return {
        "alone": quiet,
        "flood": noisy,
        "ratio": quantiles(noisy)[2] / quantiles(quiet)[2],
        "rejected": rejected,
        "statuses": counts,
        "log_bytes": log_growth,
        "load": (load_before, os.getloadavg()),
        "bot_cpu": cpu,
        "flood_cpu": flood_cpu,
    }


def line(name: str, results: Results) -> str:
    p50, p95, p99 = quantiles(results)
    return (
        f"{name:5} n={len(results.latencies):5}  p50={p50 * 1000:7.2f} ms  "
        f"p95={p95 * 1000:7.2f} ms  p99={p99 * 1000:7.2f} ms  errors={results.errors}"
    )


async def main_async(options: argparse.Namespace) -> int:
    backend = "PostgreSQL" if options.database_url else "SQLite"
    print(
        f"{backend}: {options.rate:g} signed /kudos per s, {options.windows} windows of "
        f"{options.window:g} s per side, interleaved; flood: {options.senders} senders of "
        f"unsigned 0.9 MB bodies in their own process (nice {options.flood_nice}); "
        f"{os.cpu_count()} CPUs"
    )
    runs = []
    with tempfile.TemporaryDirectory(prefix="slack_flood_") as tmp:
        for number in range(options.runs):
            run = await one_run(options, Path(tmp), number)
            runs.append(run)
            before, after = run["load"]  # type: ignore[misc]
            print(f"run {number + 1}: load average {before[0]:.2f} → {after[0]:.2f}")
            print(f"  {line('alone', run['alone'])}")  # type: ignore[arg-type]
            print(f"  {line('flood', run['flood'])}")  # type: ignore[arg-type]
            print(
                f"  p99 ratio flood/alone = {run['ratio']:.2f}; {run['rejected']} bodies "
                f"rejected {run['statuses']}; log +{run['log_bytes']} bytes "
                f"({run['log_bytes'] / max(run['rejected'], 1):.2f} per rejection)"  # type: ignore[operator]
            )
            bot_cpu: dict[bool, float] = run["bot_cpu"]  # type: ignore[assignment]
            extra = (bot_cpu[True] - bot_cpu[False]) / max(int(run["rejected"]), 1)  # type: ignore[call-overload]
            print(
                f"  bot CPU {bot_cpu[False]:.1f} s alone, {bot_cpu[True]:.1f} s flooded "
                f"({extra * 1e6:.0f} µs more per rejection); the flood itself used "
                f"{run['flood_cpu']:.1f} s at nice {options.flood_nice}"
            )
    ratios = sorted(float(run["ratio"]) for run in runs)  # type: ignore[arg-type]
    middle = runs[[float(run["ratio"]) for run in runs].index(ratios[len(ratios) // 2])]  # type: ignore[arg-type]
    print(f"median run: p99 ratio flood/alone = {ratios[len(ratios) // 2]:.2f}  (target ≤ 2)")
    print(f"  {line('alone', middle['alone'])}")  # type: ignore[arg-type]
    print(f"  {line('flood', middle['flood'])}")  # type: ignore[arg-type]
    total_rejected = sum(int(run["rejected"]) for run in runs)  # type: ignore[call-overload]
    total_log = sum(int(run["log_bytes"]) for run in runs)  # type: ignore[call-overload]
    print(
        f"all runs: {total_rejected} rejected, log +{total_log} bytes "
        f"({total_log / max(total_rejected, 1):.2f} bytes per rejected request)"
    )
    return 0


async def flood_role(options: argparse.Namespace) -> None:
    counts: dict[int, int] = {}
    stop_at = time.perf_counter() + options.seconds
    await asyncio.gather(*(flood(options.url, stop_at, counts) for _ in range(options.senders)))
    print(json.dumps({"counts": counts, "cpu": time.process_time()}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--window", type=float, default=2.5)
    parser.add_argument("--windows", type=int, default=8)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--flood-nice", type=int, default=10, help="the flood's CPU priority")
    parser.add_argument("--database-url", help="a migrated-on-start PostgreSQL database")
    parser.add_argument("--seconds", type=float, default=5.0, help=argparse.SUPPRESS)
    parser.add_argument("--role", choices=["flood"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.role == "flood":
        asyncio.run(flood_role(options))
        return 0
    return asyncio.run(main_async(options))


if __name__ == "__main__":
    raise SystemExit(main())
