"""What the web server exposes: the address it binds (HOST) and /metrics behind a bearer token
(METRICS_TOKEN) while the platform endpoints and /healthz stay open."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import Application
from bot.ops.config import Config, load_config
from bot.ops.redaction import config_secrets
from bot.runtime.clock import ManualClock
from storage.db import Database
from tests.conftest import ROOT

pytestmark = pytest.mark.asyncio

TOKEN = "metrics-token-7f3a9c"


@pytest.fixture
async def guarded(config: Config, db: Database, clock: ManualClock) -> AsyncIterator[TestClient]:
    app = Application(config.model_copy(update={"metrics_token": TOKEN}), clock=clock, db=db)
    client = TestClient(TestServer(app.web, host="127.0.0.1", port=0))
    await client.start_server()
    yield client
    await client.close()


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", TOKEN, f"Basic {TOKEN}"])
async def test_metrics_without_the_token_are_refused(
    guarded: TestClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await guarded.get("/metrics", headers=headers)

    assert response.status == 401
    assert "kudos_pulse" not in await response.text()


async def test_metrics_with_the_token_are_served_and_health_stays_open(
    guarded: TestClient,
) -> None:
    response = await guarded.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status == 200
    assert "kudos_pulse_commands_total" in await response.text()
    assert (await guarded.get("/healthz")).status == 200


def test_host_and_metrics_token_come_from_the_environment() -> None:
    config = load_config(ROOT / "app.yaml", env={"HOST": "127.0.0.1", "METRICS_TOKEN": TOKEN})

    assert (config.host, config.metrics_token) == ("127.0.0.1", TOKEN)
    assert TOKEN in config_secrets(config)  # masked in every log line
    assert load_config(ROOT / "app.yaml", env={}).host == "0.0.0.0"


async def test_the_server_listens_on_the_configured_host(
    config: Config, db: Database, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    app = Application(
        config.model_copy(update={"host": "127.0.0.1", "port": port}), clock=clock, db=db
    )
    caplog.set_level(logging.INFO, logger="bot.app")
    serving = asyncio.create_task(app.serve())
    deadline = time.monotonic() + 10
    while "listening on" not in caplog.text:
        assert not serving.done() and time.monotonic() < deadline
        await asyncio.sleep(0.05)
    try:
        assert re.search(r"listening on (\S+)", caplog.text).group(1) == f"127.0.0.1:{port}"  # type: ignore[union-attr]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/healthz") as answer:
                assert answer.status == 200
    finally:
        app.stopping.set()
        await asyncio.wait_for(serving, timeout=10)
