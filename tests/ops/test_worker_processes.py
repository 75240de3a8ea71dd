"""`kudos-pulse run` as an operator starts it: the process answering Slack plus one worker
process. The worker does the work; SIGTERM stops both within 10 s; a parent killed outright
does not leave its worker behind."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from storage.db import Database
from tests.conftest import ROOT
from tests.harness.fakes.slack_api import FakeSlack
from tests.harness.helpers import stored_kudos
from tests.harness.slack import BOT_TOKEN, SECRET, sign, slash_command

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().rstrip("\0").split("\0")


def _exists(path: str) -> bool:
    return Path(path).exists()


def _environment(pid: int) -> dict[str, str]:
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return dict(pair.split("=", 1) for pair in pairs if "=" in pair)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def _until(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def _start(
    database_url: str, fake: FakeSlack, tmp_path: Path
) -> tuple[asyncio.subprocess.Process, str]:
    port = _free_port()
    env = {
        **os.environ,
        "KUDOS_PULSE_CONFIG": str(ROOT / "app.yaml"),
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "PORT": str(port),
        "WORKERS": "1",
    }
    log = (tmp_path / "bot.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, cwd=ROOT, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await _until_healthy(process, url, tmp_path)
        await _until(lambda: len(_children(process.pid)) == 1, 30, "the worker process")
    except BaseException:
        process.kill()
        await process.wait()
        raise
    return process, url


async def _until_healthy(process: asyncio.subprocess.Process, url: str, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.returncode is None, (tmp_path / "bot.log").read_text()
            try:
                async with session.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("the bot did not answer /healthz within 60 s")


async def _kudos(url: str, fake: FakeSlack) -> int:
    body = urlencode(
        slash_command(
            fake, "<@UBOB|bob> for untangling the refund flow #easy", trigger_id="trigger-process"
        )
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, int(time.time()))}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/slack/events", data=body, headers=headers) as response:
            return response.status


@pytest.fixture
async def bot(
    db: Database, fake_slack: FakeSlack, tmp_path: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """The running bot; whatever a test does, nothing of it is left running afterwards."""
    process, url = await _start(db.url, fake_slack, tmp_path)
    children = _children(process.pid)
    metrics_dir = _environment(process.pid).get("PROMETHEUS_MULTIPROC_DIR")
    try:
        yield process, url
    finally:
        for pid in (process.pid, *children):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if process.returncode is None:
            await process.wait()
        if metrics_dir:  # a process killed outright cannot remove it itself
            shutil.rmtree(metrics_dir, ignore_errors=True)


async def test_the_worker_process_does_the_work_and_sigterm_stops_both(
    bot: tuple[asyncio.subprocess.Process, str],
    db: Database,
    fake_slack: FakeSlack,
    tmp_path: Path,
) -> None:
    process, url = bot
    [worker] = _children(process.pid)
    assert _cmdline(worker)[-3:] == ["run", "--role", "worker"]
    # Acknowledgements come first: the worker (once started) only takes CPU nobody else wants.
    await _until(lambda: os.sched_getscheduler(worker) == os.SCHED_IDLE, 30, "SCHED_IDLE")
    assert os.sched_getscheduler(process.pid) == os.SCHED_OTHER
    try:
        assert await _kudos(url, fake_slack) == 200
        await _until(
            lambda: len(fake_slack.to("chat.postMessage")) == 2 and fake_slack.responses,
            30,
            "the answer, the celebration and the DM",
        )
        assert await stored_kudos(db) == (1, 1, 2)
        assert "Kudos sent to <@UBOB>" in str(fake_slack.responses[0])
        # The worker counted the command; the process serving /metrics shows it (the worker
        # counts the request done once Slack took the answer: wait for that too).
        expected = [
            'kudos_pulse_commands_total{kind="kudos",outcome="ok"} 1.0',
            'kudos_pulse_inbox_items_total{outcome="done"} 1.0',
            'kudos_pulse_ack_seconds_count{platform="slack"} 1.0',
        ]
        exposition = ""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{url}/metrics") as response:
                    exposition = await response.text()
            if all(line in exposition for line in expected):
                break
            await asyncio.sleep(0.2)
        assert [line for line in expected if line not in exposition] == []
        metrics_dir = _environment(process.pid)["PROMETHEUS_MULTIPROC_DIR"]
        assert _exists(metrics_dir)
    finally:
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=15)
    assert code == 0, (tmp_path / "bot.log").read_text()
    assert time.monotonic() - started < 10
    assert not _alive(worker)
    assert not _exists(metrics_dir)  # the samples directory is removed on the way out


async def test_a_worker_does_not_outlive_a_parent_killed_outright(
    bot: tuple[asyncio.subprocess.Process, str],
) -> None:
    process, _url = bot
    [worker] = _children(process.pid)
    process.kill()
    await process.wait()
    await _until(lambda: not _alive(worker), 15, "the orphaned worker to stop")
