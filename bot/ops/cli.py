"""The `kudos-pulse` command (also `python -m bot`)."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.app import ROLES, Application
from bot.ops import credentials, logsetup, opscli
from bot.ops.config import (
    DEFAULT_DATABASE_URL,
    Config,
    ConfigError,
    default_config_path,
    load_config,
)
from bot.ops.metrics_endpoint import MULTIPROCESS_DIR
from bot.runtime import processes

log = logging.getLogger("kudos_pulse")
# Commands that act on the configuration, so a missing app.yaml deserves a word.
NOTICE_NO_CONFIG = {"run", "console", "check", "migrate"}
# The console keeps its own file unless a database is configured: its messages, for people
# on no platform, would otherwise wait forever in the outbox of a Slack or Teams run.
CONSOLE_DATABASE_URL = "sqlite+aiosqlite:///./kudos_pulse_console.db"
# Set (to its pid) by the `run` process that created the metrics directory and removes it.
OWNS_METRICS_DIR = "KUDOS_PULSE_OWNS_METRICS_DIR"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kudos-pulse",
        description="Kudos & Pulse: peer recognition and EASY/VALUE pulses for Slack, Teams "
        "and a local console.",
    )
    parser.add_argument(
        "--config", type=Path, help="path of app.yaml (default: $KUDOS_PULSE_CONFIG or ./app.yaml)"
    )
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING …")
    parser.add_argument("--version", action="version", version=f"kudos-pulse {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="start the bot: Slack/Teams when credentials are set, else the console (default)",
    )
    run.add_argument(
        "--role",
        choices=list(ROLES),
        help="all: everything in one process; web: only answer the platforms; worker: only "
        "do the work (default: web plus --workers worker processes, or all when there are none)",
    )
    run.add_argument(
        "--workers",
        type=int,
        help="worker processes to start beside this one (default: config `workers`)",
    )
    console = commands.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument("--as", dest="user", default="alice", help="who you are (default alice)")
    console.add_argument(
        "--channel", default="general", help="channel you type in (default general)"
    )
    init = commands.add_parser(
        "init",
        help="write app.yaml, an environment file and the pulse key (never overwrites)",
    )
    init.add_argument(
        "directory", nargs="?", type=Path, default=Path("."), help="where (default: here)"
    )
    commands.add_parser("migrate", help="create or upgrade the database schema")
    commands.add_parser("check", help="check configuration, database and platform credentials")
    manifest = commands.add_parser(
        "manifest", help="print the Slack app manifest or write the Teams app package"
    )
    manifest.add_argument("platform", choices=["slack", "teams"])
    manifest.add_argument("--url", help="public https base URL of this bot")
    manifest.add_argument("--app-id", help="Teams: the Microsoft app id (default: config)")
    manifest.add_argument("--out", type=Path, help="where to write the file (Teams package)")
    opscli.add_parsers(commands)
    for command in commands.choices.values():  # `kudos-pulse check --log-level DEBUG` too
        command.add_argument(
            "--log-level", default=argparse.SUPPRESS, help="DEBUG, INFO, WARNING …"
        )
    return parser


def _version() -> str:
    try:
        return metadata.version("kudos-pulse")
    except metadata.PackageNotFoundError:  # a source checkout that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = args.command or "run"
    if command == "init":  # it writes the configuration, so it cannot need one
        from bot.ops.init import init

        return init(args.directory)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        if command == "check":  # check reports it in its own verdict format
            print(f"FAIL  configuration: {error}")
            return 1
        print(f"kudos-pulse: {error}", file=sys.stderr)
        return 2
    if args.config is None and default_config_path() is None and command in NOTICE_NO_CONFIG:
        print(
            "kudos-pulse: no ./app.yaml (nor KUDOS_PULSE_CONFIG): running on built-in defaults "
            "and the environment",
            file=sys.stderr,
        )
    quiet = command in {"console", "run"} and not (config.slack_enabled or config.teams_enabled)
    logsetup.configure(
        config,
        level=args.log_level or ("WARNING" if quiet else "INFO"),
        log_format=os.environ.get("LOG_FORMAT"),
    )
    handlers: dict[str, Callable[[Config, argparse.Namespace], Coroutine[Any, Any, int]]] = {
        "run": _run,
        "console": _console,
        "migrate": _migrate,
        "check": _check,
        "manifest": _manifest,
        **opscli.HANDLERS,
    }
    # Only a real program may replace itself (see `_run`), never a caller such as a test.
    args.may_reexec = argv is None
    try:
        return asyncio.run(handlers[command](config, args))
    except KeyboardInterrupt:
        return 130


async def _run(config: Config, args: argparse.Namespace) -> int:
    role = getattr(args, "role", None)
    workers = getattr(args, "workers", None)
    workers = processes.worker_count(config) if workers is None else workers
    if role is None:
        role = "web" if workers > 0 else "all"
    if role != "web":
        workers = 0  # only the process that answers the platforms starts workers
    incomplete = credentials.problems(config)
    if incomplete:  # an operator's mistake: never a silent fall-back to the console
        for line in incomplete:
            print(f"kudos-pulse: {line}", file=sys.stderr)
        return 2
    if role == "worker" and config.worker_priority == "background":
        processes.run_in_background()  # first, so every thread started later inherits it
    app = Application(config, role=role)
    adapters = app.configured_adapters()
    if not adapters:
        if role == "worker":
            print("kudos-pulse: a worker needs Slack or Teams credentials", file=sys.stderr)
            return 2
        if not sys.stdin.isatty():  # a service (systemd, a container) must not just end
            print(
                "kudos-pulse: no Slack or Teams credentials are set, and there is no terminal "
                "for the local console; set them (docs/DEPLOY.md) or run `kudos-pulse console`",
                file=sys.stderr,
            )
            return 2
        print("No Slack or Teams credentials found — starting the local console.\n")
        return await _console(config, args)
    if workers and not os.environ.get(MULTIPROCESS_DIR) and getattr(args, "may_reexec", False):
        # Worker processes count commands and sends; for /metrics to show them, every process
        # must write its samples to one directory, which prometheus_client reads from the
        # environment when it is imported — so start again with it set (before any work;
        # `orig_argv` keeps the interpreter's own options and the way it was started).
        os.environ[MULTIPROCESS_DIR] = tempfile.mkdtemp(prefix="kudos-pulse-metrics-")
        os.environ[OWNS_METRICS_DIR] = str(os.getpid())
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    try:
        return await _serve(app, adapters, args, role, workers)
    finally:
        if os.environ.get(OWNS_METRICS_DIR) == str(os.getpid()):
            shutil.rmtree(os.environ[MULTIPROCESS_DIR], ignore_errors=True)


async def _serve(
    app: Application, adapters: list[str], args: argparse.Namespace, role: str, workers: int
) -> int:
    await app.prepare()
    for name in adapters:
        app.load_adapter(name)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, app.stopping.set)
    if workers:
        command = processes.worker_command(
            str(args.config) if args.config else None, args.log_level
        )
        app.add_background(processes.WorkerProcesses(workers, command).run)
    if role == "worker":
        watcher = processes.stop_with_parent(app.stopping)  # noqa: F841  (kept alive)
        log.info("worker starting with %s", ", ".join(adapters))
        await app.run_background()
        return 0
    log.info(
        "starting with %s on port %s (%s)",
        ", ".join(adapters),
        app.config.port,
        f"{workers} worker process{'es' if workers > 1 else ''}" if workers else "one process",
    )
    try:
        await app.serve()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(
            f"kudos-pulse: port {app.config.port} is already in use (another kudos-pulse?); "
            "set PORT or `port:` in app.yaml",
            file=sys.stderr,
        )
        await app.close()
        return 2
    return 0


async def _console(
    config: Config,
    args: argparse.Namespace,
    app: Application | None = None,
    read: Callable[[str], Awaitable[str]] | None = None,
) -> int:
    """The chat in this terminal, with everything `run` does behind it: the scheduler closes
    rounds and sends digests on the same clock, the outbox delivers (`read`: tests type)."""
    from adapters.console import ConsoleChat  # the console is an adapter like any other

    if app is None and config.database_url == DEFAULT_DATABASE_URL:
        config = config.model_copy(update={"database_url": CONSOLE_DATABASE_URL})
    app = app or Application(config)
    await app.prepare()
    platform = app.load_adapter("console", terminal=sys.stdout.isatty())
    chat = ConsoleChat(
        app, platform, getattr(args, "user", "alice"), getattr(args, "channel", "general")
    )
    # The scheduler ticks as in `run`; the chat delivers the outbox itself, in turn with
    # typed lines (the console takes no platform requests, so it needs no inbox).
    background = [
        asyncio.create_task(work(app.stopping)) for work in (app.scheduler.run, chat.deliver)
    ]
    try:
        await (chat.repl() if read is None else chat.repl(read))
    finally:
        await app.close(background)
    return 0


async def _migrate(config: Config, _args: argparse.Namespace) -> int:
    from storage import migrate
    from storage.db import Database

    db = Database(config.database_url)
    try:
        before, after = await migrate.upgrade(db)
    finally:
        await db.dispose()
    if before == after:
        print(f"Database is up to date ({', '.join(sorted(after)) or 'empty'}).")
    else:
        print(
            f"Migrated {', '.join(sorted(before)) or 'empty database'} → "
            f"{', '.join(sorted(after))}."
        )
    return 0


async def _check(config: Config, _args: argparse.Namespace) -> int:
    from bot.ops import checks

    return await checks.run(config)


async def _manifest(config: Config, args: argparse.Namespace) -> int:
    """Each adapter owns its manifest (`adapters/<platform>/manifest.py`, `main(config, args)`)."""
    import importlib

    from bot.app import ADAPTER_MODULES

    module = importlib.import_module(f"{ADAPTER_MODULES[args.platform]}.manifest")
    return int(module.main(config, args))


if __name__ == "__main__":
    raise SystemExit(main())
