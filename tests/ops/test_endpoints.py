"""/healthz, /readyz and /metrics over HTTP, and the metrics moving after real console turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from tests.conftest import ConsoleHarness


async def _client(app: Application) -> TestClient:
    client = TestClient(TestServer(app.web, host="127.0.0.1", port=0))
    await client.start_server()
    return client


@pytest.fixture
async def http(app: Application) -> AsyncIterator[TestClient]:
    client = await _client(app)
    yield client
    await client.close()


async def _samples(http: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await http.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_healthz_says_alive(http: TestClient) -> None:
    response = await http.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "alive"}


async def test_readyz_is_ready_on_a_migrated_database(http: TestClient, db: Database) -> None:
    response = await http.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ready", "database": db.backend}


async def test_readyz_is_503_while_migrations_are_pending(
    config: Config, clock: ManualClock, tmp_path: Path
) -> None:
    empty = Database(f"sqlite+aiosqlite:///{tmp_path / 'unmigrated.db'}")
    app = Application(config, clock=clock, db=empty)
    client = await _client(app)
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["status"] == "migrations pending"
    finally:
        await client.close()
        await empty.dispose()


async def test_readyz_is_503_and_counts_an_error_when_the_database_is_unreachable(
    config: Config, clock: ManualClock, http: TestClient
) -> None:
    before = _value(await _samples(http), "kudos_pulse_database_errors_total", operation="readyz")
    # Nothing listens on port 1 of the loopback: the connection is refused at once.
    gone = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    app = Application(config, clock=clock, db=gone)
    client = await _client(app)
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        assert (await response.json())["status"] == "database unreachable"
    finally:
        await client.close()
        await gone.dispose()
    after = _value(await _samples(http), "kudos_pulse_database_errors_total", operation="readyz")
    assert after == before + 1


async def test_metrics_move_after_real_console_commands(
    http: TestClient, console: ConsoleHarness
) -> None:
    before = await _samples(http)

    shown = await console.say("/kudos @bob thanks for the quick refund fix #easy")
    assert "@bob" in shown
    await console.say("/kudos @bob")  # no reason: refused
    await console.say("/frobnicate now")  # unknown command word
    await console.say("/help")

    after = await _samples(http)
    commands = "kudos_pulse_commands_total"
    assert _value(after, commands, kind="kudos", outcome="ok") == (
        _value(before, commands, kind="kudos", outcome="ok") + 1
    )
    assert _value(after, commands, kind="kudos", outcome="refused") == (
        _value(before, commands, kind="kudos", outcome="refused") + 1
    )
    assert _value(after, commands, kind="unknown", outcome="refused") == (
        _value(before, commands, kind="unknown", outcome="refused") + 1
    )
    assert _value(after, commands, kind="help", outcome="ok") == (
        _value(before, commands, kind="help", outcome="ok") + 1
    )
    # The kudos posted a celebration and DM'd bob through the outbox.
    sends = "kudos_pulse_outbox_sends_total"
    sent = _value(after, sends, platform="console", outcome="sent") - _value(
        before, sends, platform="console", outcome="sent"
    )
    assert sent >= 1
    assert _value(after, "kudos_pulse_outbox_depth", status="sent") >= sent
    assert _value(after, "kudos_pulse_outbox_depth", status="pending") == 0


async def test_a_command_the_database_fails_counts_as_error(
    http: TestClient, config: Config, clock: ManualClock
) -> None:
    before = await _samples(http)
    gone = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    console = ConsoleHarness(Application(config, clock=clock, db=gone))
    try:
        # The core's answer, as the console would show it (its outbox drain needs the database).
        reply = await console.app.core.handle_text(
            console.chat.actor, "/kudos <@bob> thanks for the quick refund fix #easy"
        )
    finally:
        await gone.dispose()
    assert "something went wrong on our side" in reply.messages[0].text

    after = await _samples(http)
    commands = "kudos_pulse_commands_total"
    assert _value(after, commands, kind="kudos", outcome="error") == (
        _value(before, commands, kind="kudos", outcome="error") + 1
    )
    errors = "kudos_pulse_database_errors_total"
    assert (
        _value(after, errors, operation="command")
        == _value(before, errors, operation="command") + 1
    )


async def test_scheduler_ticks_are_counted(http: TestClient, app: Application) -> None:
    before = _value(await _samples(http), "kudos_pulse_scheduler_firings_total", kind="tick")
    await app.scheduler.tick()
    await app.scheduler.tick()
    after = _value(await _samples(http), "kudos_pulse_scheduler_firings_total", kind="tick")
    assert after == before + 2


async def test_outbox_outcomes_are_counted_including_429s(
    http: TestClient, db: Database, clock: ManualClock
) -> None:
    from collections import deque

    from bot.host import PermanentFailure, RateLimited, TemporaryFailure
    from bot.messages import Message, ToPerson
    from bot.ops.config import OutboxSettings
    from bot.runtime import outbox
    from bot.runtime.outbox import OutboxWorker
    from storage.repositories import workspaces
    from tests.harness.fakes.platform import ScriptedPlatform

    platform = ScriptedPlatform(
        name="console",
        script=deque(
            [RateLimited(retry_after=0.0), TemporaryFailure("503"), PermanentFailure("gone")]
        ),
    )
    worker = OutboxWorker(db, {"console": platform}, clock, OutboxSettings(max_attempts=5))
    async with db.write() as session:
        workspace = await workspaces.ensure(session, "console", "local", clock.now())
        assert workspace.id is not None
        for key in ("a", "b", "c", "d"):
            await outbox.enqueue(
                session,
                workspace_id=workspace.id,
                platform="console",
                key=key,
                message=Message(audience=ToPerson(user_id=key), text="hi"),
                now=clock.now(),
            )
    before = await _samples(http)
    for _ in range(6):
        clock.advance(timedelta(minutes=10))
        await worker.drain()
    after = await _samples(http)

    def moved(outcome: str) -> float:
        name = "kudos_pulse_outbox_sends_total"
        return _value(after, name, platform="console", outcome=outcome) - _value(
            before, name, platform="console", outcome=outcome
        )

    assert (moved("rate_limited"), moved("retried"), moved("failed"), moved("sent")) == (1, 1, 1, 3)
    assert _value(after, "kudos_pulse_outbox_depth", status="failed") == 1
    assert _value(after, "kudos_pulse_outbox_depth", status="sent") == 3


async def test_the_outbox_loop_counts_database_errors_and_keeps_going(
    http: TestClient, clock: ManualClock
) -> None:
    import asyncio

    from bot.ops.config import OutboxSettings
    from bot.runtime.outbox import OutboxWorker
    from tests.harness.fakes.platform import ScriptedPlatform

    before = _value(await _samples(http), "kudos_pulse_database_errors_total", operation="outbox")
    gone = Database("postgresql+asyncpg://postgres@127.0.0.1:1/nothing")
    worker = OutboxWorker(gone, {"console": ScriptedPlatform()}, clock, OutboxSettings())
    stop = asyncio.Event()
    loop = asyncio.create_task(worker.run(stop, idle_seconds=0.01))
    try:
        await asyncio.sleep(0.5)
        assert not loop.done()  # a failing database does not end the worker
    finally:
        stop.set()
        await asyncio.wait_for(loop, timeout=5)
        await gone.dispose()
    after = _value(await _samples(http), "kudos_pulse_database_errors_total", operation="outbox")
    assert after >= before + 2
