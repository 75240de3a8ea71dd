"""Slack acknowledgement latency: our bot against a bare Bolt app, in the same run.

    .venv/bin/python bench/slack_ack.py [--rate 100] [--seconds 20] [--database-url URL]

Starts on 127.0.0.1: the fake Slack Web API, the real bot exactly as an operator runs it
(`python -m bot run`: the process answering Slack plus the worker processes its configuration
asks for — on PostgreSQL one by default) and a bare slack-bolt AsyncApp built with
`process_before_response=True` whose only listener acks /kudos. Then it
sends signed `/kudos @someone for … #easy` slash commands to both, open loop at a fixed rate
(each request leaves at its scheduled time whether or not earlier ones were answered;
latency is measured from that scheduled time), and prints p50/p95/p99/max, errors and
requests that took ≥ 3 s. It does it twice: with a prompt fake Slack, and with a fake Slack
that answers every Web API call after 2 s (the bot's slow work must not delay its acks).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
TEAM = "T0TEST"
PEOPLE = 400  # 400 givers × 5 a day: every request in a 20 s run at 100/s is a real kudos
# Request numbers from `BLOCK * k` on use the k-th group of PEOPLE people: each scenario and each
# warm-up has its own givers, so none reaches the daily limit even when both scenarios share
# one database (a PostgreSQL URL).
BLOCK = 10**6
GROUPS = 4


# -- the two servers under test (each runs in its own process) ---------------------------------


async def serve_bare(api_url: str) -> None:
    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @bolt.command("/kudos")
    async def kudos(ack):  # type: ignore[no-untyped-def]
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    server = web.Application()
    server.router.add_post("/slack/events", events)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"PORT {site._server.sockets[0].getsockname()[1]}", flush=True)  # type: ignore[union-attr]
    await asyncio.Event().wait()


# -- the load generator --------------------------------------------------------------------------


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    slow: int = 0  # ≥ 3 s: Slack would have given up
    # How late the generator itself sent each request (its own CPU starvation, not the server's).
    lags: list[float] = field(default_factory=list)

    def line(self, name: str) -> str:
        if not self.latencies:
            return f"{name:5} no answers, errors={self.errors}"
        ordered = sorted(self.latencies)
        q = statistics.quantiles(ordered, n=100, method="inclusive")
        return (
            f"{name:5} n={len(ordered):5}  p50={q[49] * 1000:7.2f} ms  p95={q[94] * 1000:7.2f} ms"
            f"  p99={q[98] * 1000:7.2f} ms  max={ordered[-1] * 1000:8.2f} ms"
            f"  errors={self.errors}  >=3s={self.slow}"
        )

    def p99(self) -> float:
        return statistics.quantiles(sorted(self.latencies), n=100, method="inclusive")[98]


def signed_command(number: int, response_url: str) -> tuple[bytes, dict[str, str]]:
    group, number = divmod(number, BLOCK)
    giver = group * PEOPLE + number % PEOPLE
    recipient = group * PEOPLE + (number % PEOPLE + 1 + number // PEOPLE) % PEOPLE
    form = {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "bench",
        "channel_id": "CBENCH",
        "channel_name": "bench",
        "user_id": f"U{giver:07d}",
        "user_name": f"person{giver}",
        "command": "/kudos",
        "text": f"<@U{recipient:07d}|person{recipient}> for the careful release review #easy",
        "api_app_id": "A1",
        "response_url": response_url,
        "trigger_id": f"bench-{number}",
    }
    body = urlencode(form)
    timestamp = str(int(time.time()))
    digest = hmac.new(
        SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    return body.encode(), headers


async def one(
    session: aiohttp.ClientSession, url: str, number: int, due: float, fake: str, out: Results
) -> None:
    body, headers = signed_command(number, f"{fake}/respond/bench")
    out.lags.append(time.perf_counter() - due)
    try:
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            ok = response.status == 200
    except Exception:
        ok = False
    elapsed = time.perf_counter() - due
    if not ok:
        out.errors += 1
        return
    out.latencies.append(elapsed)
    if elapsed >= 3.0:
        out.slow += 1


async def load(
    targets: dict[str, str], fake: str, rate: float, seconds: float, first: int = 0
) -> dict[str, Results]:
    """Open loop: request i goes to every target at start + i/rate (staggered by half a step)."""
    results = {name: Results() for name in targets}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter() + 0.1
        total = int(rate * seconds)
        for i in range(total):
            for offset, (name, url) in enumerate(targets.items()):
                due = start + (i + offset / len(targets)) / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(
                    asyncio.create_task(one(session, url, first + i, due, fake, results[name]))
                )
        await asyncio.gather(*tasks)
    return results


# -- orchestration -------------------------------------------------------------------------------


def spawn(*args: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"{args} did not start: {line!r}")
    return process, int(line.split()[1])


def spawn_bot(
    api_url: str,
    database_url: str,
    workers: int | None,
    log: Path,
    *,
    log_level: str = "WARNING",
) -> tuple[subprocess.Popen[str], int]:
    """`python -m bot run` with Slack credentials (its log, at `log_level`, goes to `log`);
    returns once it answers /healthz."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": database_url,
        "PORT": str(port),
    }
    if workers is not None:
        env["WORKERS"] = str(workers)
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--log-level", log_level, "run"],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=output,
            stderr=output,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the bot exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the bot did not start within 60 s")


def family(pid: int) -> list[int]:
    """`pid` and its descendants (the bot's worker processes)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(grandchild for child in children for grandchild in family(int(child)))]


def cpu_seconds(process: subprocess.Popen[str]) -> float:
    """User + system CPU the process and its children have used so far (Linux /proc)."""
    total = 0.0
    for pid in family(process.pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def stop(process: subprocess.Popen[str], name: str = "") -> None:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        print(f"  WARNING: {name or process.args} did not stop within 15 s of SIGTERM; killed")
        process.kill()
        process.wait()
    if name:
        print(f"  {name} stopped {time.monotonic() - started:.1f} s after SIGTERM")


async def scenario(
    title: str, delay: float, options: argparse.Namespace, group: int
) -> dict[str, Results]:
    with tempfile.TemporaryDirectory(prefix="slack_ack_") as tmp:
        database_url = options.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        fake, fake_port = spawn(
            "-m",
            "tests.harness.fakes.slack_api",
            "--delay",
            str(delay),
            "--people",
            str(GROUPS * PEOPLE),
        )
        fake_url = f"http://127.0.0.1:{fake_port}"
        api_url = f"{fake_url}/api/"
        bot, bot_port = spawn_bot(api_url, database_url, options.workers, Path(tmp) / "bot.log")
        bare, bare_port = spawn(__file__, "--role", "bare", "--api-url", api_url)
        targets = {
            "bot": f"http://127.0.0.1:{bot_port}/slack/events",
            "bare": f"http://127.0.0.1:{bare_port}/slack/events",
        }
        try:
            # Warm up both (Bolt's first auth.test, connection pools, imports); not measured.
            await load(
                targets,
                fake_url,
                rate=20,
                seconds=max(2.0, delay + 1.5),
                first=(group + 1) * BLOCK,
            )
            await asyncio.sleep(max(0.5, delay + 0.5))
            kudos_before = await stored_kudos(database_url)
            before = {name: cpu_seconds(p) for name, p in (("bot", bot), ("bare", bare))}
            results = await load(
                targets, fake_url, options.rate, options.seconds, first=group * BLOCK
            )
            cpu = {
                name: cpu_seconds(p) - before[name] for name, p in (("bot", bot), ("bare", bare))
            }
            kudos_done = await stored_kudos(database_url) - kudos_before
        finally:
            stop(bare)
            stop(bot, "the bot")
            stop(fake)
    print(f"\n{title}: {options.rate:g} req/s for {options.seconds:g} s to each, open loop")
    for name, result in results.items():
        print(f"  {result.line(name)}  cpu={cpu[name] / options.seconds * 100:.0f}%")
    print(
        f"  bot: {kudos_done} of {len(results['bot'].latencies)} kudos stored by the end of the"
        " window (the rest wait in the inbox; they are done after it)"
    )
    ratio = results["bot"].p99() / results["bare"].p99()
    print(f"  p99 ratio bot/bare = {ratio:.2f}  (target ≤ 1.5)")
    lags = sorted(lag for result in results.values() for lag in result.lags)
    lag_p99 = statistics.quantiles(lags, n=100, method="inclusive")[98]
    print(f"  load generator: p99 send lag {lag_p99 * 1000:.2f} ms", end="")
    print(
        "  (WARNING: it could not keep its schedule; the machine is busy)"
        if lag_p99 > 0.005
        else ""
    )
    return results


async def stored_kudos(database_url: str) -> int:
    """Recognitions in the bot's database so far (how far its workers got)."""
    from sqlalchemy import func
    from sqlmodel import select

    from storage.db import Database
    from storage.models import Recognition

    db = Database(database_url)
    try:
        async with db.read() as unit:
            session = unit.session
            return int((await session.exec(select(func.count()).select_from(Recognition))).one())
    finally:
        await db.dispose()


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


async def main_async(options: argparse.Namespace) -> int:
    print("load:", uptime())
    if "prompt" in options.scenarios:
        await scenario("Fake Slack answering at once", 0.0, options, group=0)
        print("load:", uptime())
    if "slow" in options.scenarios:
        await scenario("Fake Slack answering every call after 2 s", 2.0, options, group=2)
        print("load:", uptime())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second, each")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database-url", help="the bot's database (default: a temp SQLite)")
    parser.add_argument(
        "--workers", type=int, help="the bot's worker processes (default: its config, auto)"
    )
    parser.add_argument("--scenarios", default="prompt,slow", help="prompt, slow or both")
    parser.add_argument("--role", choices=["bare"], help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.role == "bare":
        asyncio.run(serve_bare(options.api_url))
        return 0
    return asyncio.run(main_async(options))


if __name__ == "__main__":
    raise SystemExit(main())
