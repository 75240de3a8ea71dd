"""The speed a person sees: from sending a kudos to its confirmation arriving, against a floor.

    .venv/bin/python bench/visible_latency.py [--samples 1000] [--rate 5]
        [--databases sqlite,postgresql] [--parts slack,cpu,teams] [--givers new|returning]
        [--database-url postgresql+asyncpg://…/name] [--check]
        [--recipients known|new] [--slack-delay SECONDS]

Slack: signed `/kudos <@U…> for … #easy` slash commands go, interleaved at `--rate` each, to
the real bot started exactly as an operator starts it (`python -m bot run`; on PostgreSQL with
`workers: auto`, i.e. the web process plus one worker process) and to a floor bot (a bare
slack-bolt AsyncApp with `process_before_response=True` that acks and posts the confirmation to
`response_url` at once, no database). Every command carries its own `response_url` on a
receiver in this process; latency runs from the moment the command is sent until its
confirmation arrives there. Each kudos comes from a new giver (a directory look-up and a person
insert on the way), or with `--givers returning` from people who gave one before. The
person named is one of a few the bot already knows, or with `--recipients new` someone it has
never met (a second look-up). `--slack-delay` makes every Slack Web API call take that long, as
real Slack's 50–150 ms round trips do (the floor calls no API, so compare our numbers across
runs, not the ratio).

CPU: the bot alone at a steady 20 kudos/s; CPU-seconds (user + system, all of the bot's
processes, from /proc) from the first command until every confirmation arrived and the
channel posts and DMs had two more seconds to go out, divided by the kudos given. Idle CPU is
reported beside it.

Teams: a Bot Framework activity giving kudos in a personal chat, from its POST until the
confirmation reaches the fake connector (in this process), interleaved against a bare
botbuilder CloudAdapter bot that replies at once (no database). Our Teams bot runs the real
app (adapter, core, background work) in one child process.

PostgreSQL: each database part runs on a scratch database created next to `--database-url`
and dropped afterwards, so every run starts empty.
`--check` exits 1 when our p99 is above 5× the floor's (Slack) or 2× (Teams).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

from slack_ack import SECRET, TEAM, TOKEN, cpu_seconds, spawn, spawn_bot, stop, uptime  # noqa: E402

SLACK_RATIO = 5.0
TEAMS_RATIO = 2.0
RECIPIENTS = 20  # people U0000000… who receive; givers are numbered after them
GIVERS_FROM = 1000
WAIT_AFTER_SECONDS = 15.0  # a confirmation later than this after the last send counts as lost


# -- the floor bots and our Teams bot (each in its own child process) ----------------------------


async def serve_floor_slack(api_url: str) -> None:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        signing_secret=SECRET,
        process_before_response=True,
    )
    session = aiohttp.ClientSession()

    async def confirm(url: str) -> None:
        async with session.post(url, json={"text": "Kudos sent!"}) as response:
            await response.read()

    tasks: set[asyncio.Task[None]] = set()

    @bolt.command("/kudos")
    async def kudos(ack, body):  # type: ignore[no-untyped-def]
        await ack()
        task = asyncio.create_task(confirm(body["response_url"]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    await _serve_routes([("/slack/events", events)])


async def serve_floor_teams() -> None:
    from botbuilder.core import ActivityHandler, TurnContext
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )

    class Configuration:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Configuration()))

    class Floor(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            await turn_context.send_activity("Kudos sent!")

    bot = Floor()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    await _serve_routes([("/api/messages", messages)])


async def serve_ours_teams(database_url: str) -> None:
    from bot.app import Application
    from bot.ops.config import load_config

    config = load_config(ROOT / "app.yaml", env={}).model_copy(
        update={"database_url": database_url}
    )
    app = Application(config)
    await app.prepare()
    app.load_adapter("teams")
    port = _free_port()
    serving = asyncio.create_task(app.serve(host="127.0.0.1", port=port))
    await asyncio.sleep(0.5)
    print(f"PORT {port}", flush=True)
    await serving


async def _serve_routes(routes: list[tuple[str, Any]]) -> None:
    server = web.Application()
    for path, handler in routes:
        server.router.add_post(path, handler)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(f"PORT {site._server.sockets[0].getsockname()[1]}", flush=True)  # type: ignore[union-attr]
    await asyncio.Event().wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- timing --------------------------------------------------------------------------------------


@dataclass
class Side:
    """One bot's samples: when each request left, when its confirmation arrived."""

    sent: dict[str, float] = field(default_factory=dict)
    arrived: dict[str, float] = field(default_factory=dict)
    errors: int = 0

    def latencies(self) -> list[float]:
        return sorted(
            self.arrived[key] - self.sent[key] for key in self.sent if key in self.arrived
        )

    @property
    def lost(self) -> int:
        return sum(1 for key in self.sent if key not in self.arrived)

    def quantiles(self) -> tuple[float, float, float]:
        q = statistics.quantiles(self.latencies(), n=100, method="inclusive")
        return q[49], q[94], q[98]

    def line(self, name: str) -> str:
        values = self.latencies()
        if len(values) < 2:
            return f"  {name:22} too few answers ({len(values)}), errors={self.errors}"
        p50, p95, p99 = self.quantiles()
        return (
            f"  {name:22} n={len(values):5}  p50={p50 * 1000:7.2f} ms  p95={p95 * 1000:7.2f} ms"
            f"  p99={p99 * 1000:7.2f} ms  max={values[-1] * 1000:8.2f} ms"
            f"  errors={self.errors}  lost={self.lost}"
        )


class Receiver:
    """Where confirmations arrive: Slack `response_url`s, and a fake Bot Framework connector."""

    def __init__(self) -> None:
        self.sides: dict[str, Side] = {}
        self.arrival = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None
        from tests.harness.fakes.bot_connector import FakeConnector

        self.connector = FakeConnector()

    def record(self, side: str, key: str) -> None:
        chosen = self.sides.get(side)
        if chosen is not None and key not in chosen.arrived and key in chosen.sent:
            chosen.arrived[key] = time.perf_counter()
            self.arrival.set()

    async def _respond(self, request: web.Request) -> web.Response:
        side, _, key = request.match_info["tag"].partition("~")
        self.record(side, key)
        await request.read()
        return web.Response(text="ok")

    async def _teams_reply(self, request: web.Request) -> web.Response:
        # The reply to activity `aid` of conversation `cid`: the confirmation.
        side, _, key = request.match_info["aid"].partition("~")
        self.record(side, key)
        await request.read()
        return web.json_response({"id": f"reply-{uuid.uuid4().hex[:8]}"}, status=201)

    async def _teams_other(self, request: web.Request) -> web.Response:
        await request.read()  # DMs and channel posts: accepted, not timed
        if request.path.endswith("/v3/conversations"):
            return web.json_response(
                {"id": f"a:created-{uuid.uuid4().hex[:8]}", "serviceUrl": self.url}, status=201
            )
        return web.json_response({"id": f"post-{uuid.uuid4().hex[:8]}"}, status=201)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        server = web.Application()
        server.router.add_post("/respond/{tag}", self._respond)
        base = "/v3/conversations"
        server.router.add_post(base + "/{cid}/activities/{aid}", self._teams_reply)
        server.router.add_post(base, self._teams_other)
        server.router.add_post(base + "/{cid}/activities", self._teams_other)
        server.router.add_put(base + "/{cid}/activities/{aid}", self._teams_other)
        server.router.add_get(base + "/{cid}/members/{mid}", self._member)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.connector.url = self.url

    async def _member(self, request: web.Request) -> web.Response:
        wanted = request.match_info["mid"]
        name = wanted.split(":", 1)[-1]
        return web.json_response(
            {
                "id": wanted,
                "name": name.title(),
                "aadObjectId": f"aad-{name}",
                "givenName": name.title(),
                "userPrincipalName": f"{name}@contoso.example",
                "tenantId": "tenant-1",
                "userRole": "user",
            }
        )

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def settle(receiver: Receiver, sides: list[Side]) -> None:
    """Wait until every sent request has its confirmation, or WAIT_AFTER_SECONDS passed."""
    deadline = time.monotonic() + WAIT_AFTER_SECONDS
    while any(side.lost for side in sides):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        receiver.arrival.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(receiver.arrival.wait(), timeout=remaining)


# -- Slack ---------------------------------------------------------------------------------------


def slack_command(giver: int, recipient: int, response_url: str) -> tuple[bytes, dict[str, str]]:
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
        "trigger_id": f"vl-{uuid.uuid4().hex}",
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


@dataclass
class Kudos:
    """Who gives to whom in request `number`."""

    givers: str  # "new" or "returning"
    samples: int
    first_giver: int
    # Where never-seen recipients are numbered from; None: the few known ones are named.
    new_recipients_from: int | None = None

    def giver(self, number: int) -> int:
        if self.givers == "new":
            return self.first_giver + number
        # Returning: each of samples/4 people has given once (the warm-up), then gives 4 more.
        return self.first_giver + number % self.pool

    @property
    def pool(self) -> int:
        return max(1, -(-self.samples // 4))

    def recipient(self, number: int) -> int:
        if self.new_recipients_from is not None:
            return self.new_recipients_from + self.first_giver + number
        return number % RECIPIENTS


async def send_slack(
    http: aiohttp.ClientSession,
    url: str,
    receiver: Receiver,
    side: str,
    key: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    record = receiver.sides[side]
    record.sent[key] = time.perf_counter()
    try:
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                record.errors += 1
    except aiohttp.ClientError:
        record.errors += 1


async def slack_series(
    http: aiohttp.ClientSession,
    receiver: Receiver,
    targets: dict[str, str],
    kudos: Kudos,
    count: int,
    rate: float,
    prefix: str,
) -> None:
    """Open loop: request i goes to each target at start + (i + offset) / rate, interleaved."""
    for name in targets:
        receiver.sides[name] = Side()
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.1
    for i in range(count):
        for offset, (name, url) in enumerate(targets.items()):
            due = start + (i + offset / len(targets)) / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = f"{prefix}{i}"
            body, headers = slack_command(
                kudos.giver(i), kudos.recipient(i), f"{receiver.url}respond/{name}~{key}"
            )
            tasks.append(
                asyncio.create_task(send_slack(http, url, receiver, name, key, body, headers))
            )
    await asyncio.gather(*tasks)
    await settle(receiver, [receiver.sides[name] for name in targets])


@asynccontextmanager
async def database(kind: str, options: argparse.Namespace) -> AsyncIterator[str]:
    """A fresh, empty database for one part of the run."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="visible_latency_") as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    import asyncpg

    base = options.database_url
    server = base.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    name = f"{base.rsplit('/', 1)[1]}_vl_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin = await asyncpg.connect(f"{server}/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def slack_part(
    kind: str, options: argparse.Namespace, receiver: Receiver, results: dict[str, Any]
) -> None:
    async with database(kind, options) as database_url:
        with tempfile.TemporaryDirectory(prefix="visible_latency_") as folder:
            # Everyone a run may name: the givers, then (with new recipients) as many again.
            people = options.new_recipients_from * (2 if options.recipients == "new" else 1)
            fake, fake_port = spawn(
                "-m",
                "tests.harness.fakes.slack_api",
                "--people",
                str(people),
                "--delay",
                str(options.slack_delay),
            )
            api_url = f"http://127.0.0.1:{fake_port}/api/"
            bot, bot_port = spawn_bot(api_url, database_url, None, Path(folder) / "bot.log")
            floor, floor_port = spawn(__file__, "--role", "floor-slack", "--api-url", api_url)
            targets = {
                "ours": f"http://127.0.0.1:{bot_port}/slack/events",
                "floor": f"http://127.0.0.1:{floor_port}/slack/events",
            }
            try:
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                    await slack_measure(kind, options, receiver, http, targets, bot, results)
            finally:
                stop(floor)
                stop(bot)
                stop(fake)


async def slack_measure(
    kind: str,
    options: argparse.Namespace,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    targets: dict[str, str],
    bot: subprocess.Popen[str],
    results: dict[str, Any],
) -> None:
    next_giver = GIVERS_FROM
    # Warm-up (not measured): imports, pools, the recipients' first sighting.
    warm = Kudos("new", 40, next_giver)
    await slack_series(http, receiver, targets, warm, 40, 10.0, "warm")
    next_giver += 40
    if "slack" in options.parts:
        new_from = options.new_recipients_from if options.recipients == "new" else None
        kudos = Kudos(options.givers, options.samples, next_giver, new_from)
        if options.givers == "returning":
            # Everyone in the pool gives once first, so the measured kudos are their next ones.
            primer = Kudos("new", kudos.pool, next_giver)
            await slack_series(http, receiver, targets, primer, kudos.pool, 20.0, "primer")
        next_giver += options.samples if options.givers == "new" else kudos.pool
        load_before = uptime()
        await slack_series(http, receiver, targets, kudos, options.samples, options.rate, "kudos")
        ours, floor = receiver.sides["ours"], receiver.sides["floor"]
        print(
            f"\nSlack /kudos confirmation, {kind}, default configuration, "
            f"{options.givers} givers, {options.rate:g}/s each, interleaved"
        )
        print(f"  load before: {load_before}")
        print(f"  load after:  {uptime()}")
        print(floor.line("floor (bare Bolt)"))
        print(ours.line(f"ours ({kind})"))
        if len(ours.latencies()) > 1 and len(floor.latencies()) > 1:
            ratio = ours.quantiles()[2] / floor.quantiles()[2]
            print(f"  p99 ratio ours/floor = {ratio:.2f}  (target ≤ {SLACK_RATIO:g})")
            results[f"slack-{kind}"] = (ratio, SLACK_RATIO, ours.errors + ours.lost)
    if "cpu" in options.parts:
        await cpu_measure(kind, options, receiver, http, targets["ours"], bot, next_giver)


async def cpu_measure(
    kind: str,
    options: argparse.Namespace,
    receiver: Receiver,
    http: aiohttp.ClientSession,
    url: str,
    bot: subprocess.Popen[str],
    first_giver: int,
) -> None:
    await asyncio.sleep(3.0)  # let the outbox finish the previous part
    idle_before = cpu_seconds(bot)
    await asyncio.sleep(options.idle_seconds)
    idle = (cpu_seconds(bot) - idle_before) / options.idle_seconds
    count = int(20 * options.cpu_seconds)
    kudos = Kudos("new", count, first_giver)
    before = cpu_seconds(bot)
    started = time.perf_counter()
    await slack_series(http, receiver, {"ours": url}, kudos, count, 20.0, "cpu")
    await asyncio.sleep(2.0)  # the channel posts and DMs go out through the outbox
    used = cpu_seconds(bot) - before
    wall = time.perf_counter() - started
    done = len(receiver.sides["ours"].latencies())
    print(f"\nCPU, {kind}, default configuration: {count} kudos at 20/s, all bot processes")
    print(f"  load: {uptime()}")
    print(
        f"  {used:.2f} CPU-s over {wall:.1f} s for {done} confirmed kudos: "
        f"{used / max(done, 1) * 1000:.1f} ms CPU per kudos "
        f"(idle: {idle * 1000:.1f} ms CPU per second)"
    )


# -- Teams ---------------------------------------------------------------------------------------


def teams_activity(receiver: Receiver, giver: str, key_tag: str) -> dict[str, Any]:
    from tests.harness.teams import BOT, TENANT, personal_conversation, uid

    return {
        "type": "message",
        "id": key_tag,
        "timestamp": "2026-11-16T10:00:00.000Z",
        "serviceUrl": receiver.url,
        "channelId": "msteams",
        "from": {"id": uid(giver), "name": giver.title(), "aadObjectId": f"aad-{giver}"},
        "conversation": {
            "id": personal_conversation(giver),
            "conversationType": "personal",
            "tenantId": TENANT,
        },
        "recipient": BOT,
        "text": "kudos <at>Bob</at> for the fast refund fix #easy",
        "entities": [
            {
                "type": "mention",
                "text": "<at>Bob</at>",
                "mentioned": {"id": uid("bob"), "name": "Bob"},
            },
            {"type": "clientInfo", "locale": "en-US", "timezone": "Europe/Berlin"},
        ],
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-US",
    }


async def send_teams(
    http: aiohttp.ClientSession,
    url: str,
    receiver: Receiver,
    side: str,
    key: str,
    activity: dict[str, Any],
) -> None:
    record = receiver.sides[side]
    record.sent[key] = time.perf_counter()
    try:
        async with http.post(url, json=activity) as response:
            await response.read()
            if response.status not in (200, 201):
                record.errors += 1
    except aiohttp.ClientError:
        record.errors += 1


async def teams_series(
    http: aiohttp.ClientSession,
    receiver: Receiver,
    targets: dict[str, str],
    kudos: Kudos,
    count: int,
    rate: float,
    prefix: str,
) -> None:
    for name in targets:
        receiver.sides[name] = Side()
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.1
    for i in range(count):
        for offset, (name, url) in enumerate(targets.items()):
            due = start + (i + offset / len(targets)) / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            key = f"{prefix}{i}"
            activity = teams_activity(receiver, f"giver{kudos.giver(i)}", f"{name}~{key}")
            tasks.append(asyncio.create_task(send_teams(http, url, receiver, name, key, activity)))
    await asyncio.gather(*tasks)
    await settle(receiver, [receiver.sides[name] for name in targets])


async def teams_part(
    kind: str, options: argparse.Namespace, receiver: Receiver, results: dict[str, Any]
) -> None:
    async with database(kind, options) as database_url:
        ours, ours_port = spawn(__file__, "--role", "ours-teams", "--database-url", database_url)
        floor, floor_port = spawn(__file__, "--role", "floor-teams")
        targets = {
            "ours": f"http://127.0.0.1:{ours_port}/api/messages",
            "floor": f"http://127.0.0.1:{floor_port}/api/messages",
        }
        samples = options.teams_samples or options.samples
        try:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                await teams_series(http, receiver, targets, Kudos("new", 40, 0), 40, 10.0, "w")
                kudos = Kudos(options.givers, samples, 100)
                if options.givers == "returning":
                    primer = Kudos("new", kudos.pool, 100)
                    await teams_series(http, receiver, targets, primer, kudos.pool, 20.0, "p")
                load_before = uptime()
                await teams_series(http, receiver, targets, kudos, samples, options.rate, "k")
        finally:
            stop(floor)
            stop(ours)
    ours_side, floor_side = receiver.sides["ours"], receiver.sides["floor"]
    print(
        f"\nTeams kudos confirmation, {kind}, {options.givers} givers, "
        f"{options.rate:g}/s each, interleaved"
    )
    print(f"  load before: {load_before}")
    print(f"  load after:  {uptime()}")
    print(floor_side.line("floor (bare CloudAdapter)"))
    print(ours_side.line(f"ours ({kind})"))
    if len(ours_side.latencies()) > 1 and len(floor_side.latencies()) > 1:
        ratio = ours_side.quantiles()[2] / floor_side.quantiles()[2]
        print(f"  p99 ratio ours/floor = {ratio:.2f}  (target ≤ {TEAMS_RATIO:g})")
        results[f"teams-{kind}"] = (ratio, TEAMS_RATIO, ours_side.errors + ours_side.lost)


# -- orchestration -------------------------------------------------------------------------------


async def main_async(options: argparse.Namespace) -> int:
    print("load:", uptime())
    receiver = Receiver()
    await receiver.start()
    results: dict[str, Any] = {}
    try:
        for kind in options.databases.split(","):
            if kind == "postgresql" and not options.database_url:
                print("postgresql skipped: give --database-url")
                continue
            if "slack" in options.parts or "cpu" in options.parts:
                await slack_part(kind, options, receiver, results)
            if "teams" in options.parts:
                await teams_part(kind, options, receiver, results)
    finally:
        await receiver.close()
    print("\nload:", uptime())
    failed = [
        f"{name}: {ratio:.2f} > {limit:g}" if ratio > limit else f"{name}: {errors} errors/lost"
        for name, (ratio, limit, errors) in results.items()
        if ratio > limit or errors
    ]
    if options.check and failed:
        print("CHECK FAILED: " + "; ".join(failed))
        return 1
    if options.check:
        print("check passed: " + ", ".join(f"{n} {r:.2f}" for n, (r, _, _) in results.items()))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="kudos per side and database")
    parser.add_argument("--teams-samples", type=int, help="default: --samples")
    parser.add_argument("--rate", type=float, default=5.0, help="kudos per second, each side")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--parts", default="slack,cpu,teams", help="slack, cpu, teams")
    parser.add_argument("--givers", choices=["new", "returning"], default="new")
    parser.add_argument("--recipients", choices=["known", "new"], default="known")
    parser.add_argument("--slack-delay", type=float, default=0.0, help="seconds per API call")
    parser.add_argument("--cpu-seconds", type=float, default=15.0)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="a PostgreSQL database on the server to use (scratch databases are made beside it)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a ratio is exceeded")
    parser.add_argument(
        "--role", choices=["floor-slack", "floor-teams", "ours-teams"], help=argparse.SUPPRESS
    )
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    options = parser.parse_args()
    # Never-met recipients are numbered past every giver a run can use.
    options.new_recipients_from = GIVERS_FROM + 4 * (options.samples + 400) + 2000
    if options.role == "floor-slack":
        asyncio.run(serve_floor_slack(options.api_url))
    elif options.role == "floor-teams":
        asyncio.run(serve_floor_teams())
    elif options.role == "ours-teams":
        asyncio.run(serve_ours_teams(options.database_url))
    else:
        return asyncio.run(main_async(options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
