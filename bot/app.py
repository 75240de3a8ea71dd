"""Composition root: config, storage, core, outbox, web server, and the adapters that apply.

Adapters are loaded by module name, only when configured, so `bot` never imports a platform
SDK and a console-only run does not even load Slack's or Microsoft's libraries.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import web

from bot.core import Core, Grammar
from bot.digests import grammar as digest_grammar
from bot.digests import install as digests
from bot.groups import grammar as group_grammar
from bot.groups import install as groups
from bot.home import grammar as home_grammar
from bot.home import install as home
from bot.host import Host, Platform
from bot.kudos import grammar as kudos_grammar
from bot.kudos import install as kudos
from bot.ops.config import Config
from bot.ops.metrics import count_database_error
from bot.ops.metrics_endpoint import metrics_handler
from bot.pulses import grammar as pulse_grammar
from bot.pulses import install as pulses
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.inbox import Inbox, InboxSettings
from bot.runtime.outbox import OutboxWorker
from bot.runtime.pictures import PictureCache, PictureRenderer
from bot.runtime.scheduler import Scheduler
from storage import migrate
from storage.db import Database

log = logging.getLogger(__name__)

ADAPTER_MODULES = {
    "console": "adapters.console",
    "slack": "adapters.slack",
    "teams": "adapters.teams",
}

# Seconds granted on shutdown: open requests, then background work (outbox sends in flight),
# then the adapters' own hooks — within the 10 s a supervisor (systemd, Kubernetes) allows.
# A worker process gets less: its parent waits `processes.STOP_SECONDS` for it.
SHUTDOWN_GRACE = 2.0
BACKGROUND_GRACE = 5.0
# A web process's outbox sends what its own requests queued; the workers' outboxes poll.
WEB_OUTBOX_POLL = 3600.0
WORKER_BACKGROUND_GRACE = 3.0

BackgroundTask = Callable[[asyncio.Event], Awaitable[None]]

# What a process does. "all": everything (one process, the default on SQLite). "web": answers
# the platforms — acknowledges, stores each request in the inbox, handles forms that must
# answer inline — and nothing else. "worker": acts on the inbox, sends the outbox, runs
# schedules; no HTTP. Several of each may share one PostgreSQL database.
ROLES = ("all", "web", "worker")


class Application:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        db: Database | None = None,
        role: str = "all",
    ):
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        self.config = config
        self.role = role
        self.clock = clock or SystemClock()
        self.db = db or Database(config.database_url)
        self.platforms: dict[str, Platform] = {}
        # Charts are drawn where the outbox delivers, in a process started on first use.
        self.pictures = PictureRenderer()
        # Pictures people look at again and again (a lead's home), drawn once per data.
        self.home_pictures = PictureCache(self.pictures)
        self.outbox = OutboxWorker(
            self.db, self.platforms, self.clock, config.outbox, pictures=self.pictures
        )
        self.scheduler = Scheduler(self.clock)
        # A worker process has no acks to protect and its handlers mostly wait on the platform,
        # so it runs more at once; beside acks (role "all") a few keep the loop responsive.
        self.inbox = Inbox(self.db, self.clock, InboxSettings(slots=16 if role == "worker" else 4))
        self.inbox.works_here = role != "web"
        # ... except while it is quiet: then the web process runs a request itself, sparing
        # the person the hand-over to a worker (docs/PERFORMANCE.md, visible latency).
        self.inbox.assists_when_quiet = role == "web"
        self.inbox.shares_loop_with_acks = role == "all"
        # One process on a single-writer database (SQLite's default): nobody else stores
        # requests, so the worker need not poll for them every 200 ms (idle CPU).
        self.inbox.sole_writer = role == "all" and self.db.is_sqlite
        self.core = Core(config, self.db, self.clock, self.platforms)
        self.kudos = kudos.install(self._host("kudos"))
        self.groups = groups.install(self._host("team"))
        self.pulses = pulses.install(self._host("pulse"))
        self.digests = digests.install(self._host("digest"), self.pulses.summaries)
        self.home = home.install(self._host("home"), self.pulses.glance, self.pulses.summaries)
        self.web = web.Application()
        self.web.router.add_get("/healthz", self._healthz)
        self.web.router.add_get("/readyz", self._readyz)
        self.web.router.add_get("/metrics", metrics_handler(config.metrics_token))
        self._background: list[BackgroundTask] = []
        if role != "worker":
            self._background.append(self.inbox.run_writer)
        if role == "web":
            # What a request run here queued (a kudos' channel post and DMs) leaves from here
            # too; it never polls, so under load, when the workers run everything, it idles.
            self._background.append(partial(self.outbox.run, idle_seconds=WEB_OUTBOX_POLL))
        if role != "web":
            self._background += [self.inbox.run_worker, self.outbox.run, self.scheduler.run]
        self._shutdown_hooks: list[Callable[[], Awaitable[None]]] = []
        self.stopping = asyncio.Event()
        self.inbox.stopping = self.stopping  # nothing new starts once the process stops

    # -- wiring ----------------------------------------------------------------------------

    def _host(self, kind: str) -> Host:
        """What one feature may use of the bot; `kind` labels its commands in the metrics."""
        return Host(
            kind=kind,
            config=self.config,
            db=self.db,
            clock=self.clock,
            people=self.core.people,
            platforms=self.platforms,
            wake_outbox=self.outbox.request_wake,
            registry=self.core,
            ticker=self.scheduler,
        )

    def add_platform(self, platform: Platform) -> None:
        self.platforms[platform.name] = platform

    def add_background(self, task: BackgroundTask, *, intake: bool = False) -> None:
        """`intake`: the task receives platform requests (e.g. a Socket Mode connection), so
        it runs where requests are answered, not in worker processes."""
        if intake and self.role == "worker":
            return
        self._background.append(task)

    def on_shutdown(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._shutdown_hooks.append(hook)

    def load_adapter(self, name: str, **options: Any) -> Any:
        module = importlib.import_module(ADAPTER_MODULES[name])
        return module.install(self, **options)

    def configured_adapters(self) -> list[str]:
        names = []
        if self.config.slack_enabled:
            names.append("slack")
        if self.config.teams_enabled:
            names.append("teams")
        return names

    # -- lifecycle -------------------------------------------------------------------------

    async def prepare(self) -> None:
        """Bring the schema up to date; safe to call from several processes at once."""
        await migrate.upgrade(self.db)

    async def serve(self, host: str | None = None, port: int | None = None) -> None:
        """Run the web server and background work until `stopping` is set (e.g. SIGTERM).

        Shutdown order: stop accepting connections (requests in flight get a few seconds),
        then let the background work wind down (the outbox finishes or re-queues what it
        holds), so the whole process is gone well within 10 s."""
        runner = web.AppRunner(self.web, access_log=None, shutdown_timeout=SHUTDOWN_GRACE)
        await runner.setup()
        site = web.TCPSite(
            runner, host or self.config.host, self.config.port if port is None else port
        )
        await site.start()
        log.info("listening on %s", ", ".join(f"{a[0]}:{a[1]}" for a in runner.addresses))
        tasks = self._start_background()
        try:
            await self.stopping.wait()
        finally:
            log.info("stopping: no new requests; finishing work in flight")
            await runner.cleanup()
            await self.close(tasks)

    def _start_background(self) -> list[asyncio.Task[None]]:
        return [asyncio.create_task(task(self.stopping)) for task in self._background]

    async def run_background(self) -> None:
        tasks = self._start_background()
        try:
            await self.stopping.wait()
        finally:
            await self.close(tasks)

    async def close(self, tasks: list[asyncio.Task[None]] | None = None) -> None:
        self.stopping.set()
        if tasks:
            # One deadline for all of them, not one per task.
            grace = WORKER_BACKGROUND_GRACE if self.role == "worker" else BACKGROUND_GRACE
            done, late = await asyncio.wait(tasks, timeout=grace)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.error("background task failed", exc_info=task.exception())
            for task in late:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*late, return_exceptions=True)
        await self.inbox.close()
        self.home_pictures.cancel()
        await asyncio.to_thread(self.pictures.close)
        for hook in self._shutdown_hooks:
            with contextlib.suppress(Exception):
                await hook()
        await self.db.dispose()

    # -- probes ----------------------------------------------------------------------------

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _readyz(self, _request: web.Request) -> web.Response:
        try:
            await self.db.ping()
            current = await migrate.is_current(self.db)
        except Exception as error:  # any database failure means "not ready"
            count_database_error("readyz", error)
            return web.json_response(
                {"status": "database unreachable", "error": type(error).__name__}, status=503
            )
        if not current:
            return web.json_response({"status": "migrations pending"}, status=503)
        return web.json_response({"status": "ready", "database": self.db.backend})


# -- the command words, without a database (the Teams manifest, grammar tests) ---------------

FEATURE_PARSERS = (
    kudos_grammar.PARSERS,
    group_grammar.PARSERS,
    pulse_grammar.PARSERS,
    digest_grammar.PARSERS,
    home_grammar.PARSERS,
)


def command_grammar() -> Grammar:
    """Every feature's command words, in the order the running bot registers them."""
    grammar = Grammar()
    for parsers in FEATURE_PARSERS:
        for word, parser in parsers.items():
            grammar.register(word, parser)
    return grammar


def parse(text: str) -> object:
    """One line of chat text → a command of whichever feature owns its first word."""
    return command_grammar().parse(text)
