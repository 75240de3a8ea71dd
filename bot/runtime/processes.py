"""Worker processes started by `kudos-pulse run` beside the process that answers the platforms.

The parent keeps one pipe to each child's standard input; a child stops when that pipe closes,
so children never outlive a parent that was killed outright. A child that exits while the
parent runs is started again (after a growing pause, so a crash loop does not spin).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from bot.ops.config import Config
from storage.db import single_writer

log = logging.getLogger("bot.processes")  # name kept: operators alert on it

SUPERVISED = "KUDOS_PULSE_SUPERVISED"
# Children get this long after SIGTERM (within the parent's own shutdown grace), then SIGKILL.
STOP_SECONDS = 5.5
MAX_RESTART_PAUSE = 30.0


def worker_command(config_path: str | None, log_level: str | None) -> list[str]:
    command = [sys.executable, "-m", "bot"]
    if config_path:
        command += ["--config", config_path]
    if log_level:
        command += ["--log-level", log_level]
    return [*command, "run", "--role", "worker"]


class WorkerProcesses:
    def __init__(self, count: int, command: Sequence[str]) -> None:
        self.count = count
        self.command = list(command)
        self.children: list[asyncio.subprocess.Process | None] = [None] * count

    @property
    def pids(self) -> list[int]:
        return [child.pid for child in self.children if child is not None]

    async def _spawn(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            *self.command, stdin=asyncio.subprocess.PIPE, env={**os.environ, SUPERVISED: "1"}
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Keep `count` children running until `stop`, then stop them."""
        try:
            await asyncio.gather(*(self._keep(slot, stop) for slot in range(self.count)))
        finally:
            await self._stop_all()

    async def _keep(self, slot: int, stop: asyncio.Event) -> None:
        pause = 1.0
        while not stop.is_set():
            child = await self._spawn()
            self.children[slot] = child
            log.info("worker process %d started (pid %d)", slot + 1, child.pid)
            exited = asyncio.ensure_future(child.wait())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if stop.is_set():
                exited.cancel()
                return
            log.error(
                "worker process %d (pid %d) exited with %s; starting it again in %.0f s",
                slot + 1,
                child.pid,
                child.returncode,
                pause,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
            pause = min(MAX_RESTART_PAUSE, pause * 2)

    async def _stop_all(self) -> None:
        alive = [child for child in self.children if child is not None and child.returncode is None]
        for child in alive:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signal.SIGTERM)
        if not alive:
            return
        _, late = await asyncio.wait(
            [asyncio.ensure_future(c.wait()) for c in alive], timeout=STOP_SECONDS
        )
        for child in alive:
            if child.returncode is None:
                log.warning("worker process %d did not stop in time; killing it", child.pid)
                with contextlib.suppress(ProcessLookupError):
                    child.kill()
        if late:
            await asyncio.gather(*late, return_exceptions=True)


def run_in_background() -> None:
    """Give this process's CPU to anyone else who wants it (Linux SCHED_IDLE).

    A worker's work can wait a few milliseconds; an acknowledgement cannot. Under this policy a
    waking acknowledgement preempts the worker at once, on any core; the worker still runs
    whenever a core is free (and gets a small share even on a saturated machine)."""
    if not hasattr(os, "SCHED_IDLE"):
        return
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except OSError as error:
        log.warning("could not lower the worker's CPU priority: %s", error)


def stop_with_parent(stopping: asyncio.Event) -> asyncio.Task[None] | None:
    """In a supervised child: set `stopping` when the parent's pipe on stdin closes."""
    if os.environ.get(SUPERVISED) != "1":
        return None

    async def watch() -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while await reader.read(4096):
            pass
        log.info("the parent process is gone; stopping")
        stopping.set()

    return asyncio.ensure_future(watch())


def worker_count(config: Config) -> int:
    """`workers: auto` is none on a database with one writer (SQLite: workers would only queue
    for it) and one elsewhere."""
    if config.workers == "auto":
        return 0 if single_writer(config.database_url) else 1
    return config.workers
