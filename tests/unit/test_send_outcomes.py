"""Which failed posts may have arrived: real transport failures against 127.0.0.1 (a closed port,
a server that drops the connection after reading the request, one that never answers), as the
Slack client (aiohttp) and the Teams connector (requests, through msrest) raise them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
import requests

from adapters.slack.errors import delivery_error as slack_error
from adapters.teams.connector import delivery_error as teams_error
from bot.host import OutcomeUnknown, TemporaryFailure

pytestmark = pytest.mark.asyncio


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def dropping_server() -> AsyncIterator[str]:
    """Reads the request, then hangs up without answering (the post may have been taken)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        writer.transport.abort()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/api/chat.postMessage"
    server.close()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Reads the request and never answers."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/api/chat.postMessage"
    server.close()


async def _aiohttp_failure(url: str, seconds: float = 2.0) -> BaseException:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session:
        try:
            await session.post(url, data=b"text=hi")
        except Exception as error:
            return error
    raise AssertionError("the call did not fail")


def _requests_failure(url: str, timeout: float = 2.0) -> BaseException:
    try:
        requests.post(url, data=b"{}", timeout=timeout)
    except Exception as error:
        return error
    raise AssertionError("the call did not fail")


async def test_slack_refused_connection_is_a_known_failure() -> None:
    error = await _aiohttp_failure(f"http://127.0.0.1:{_closed_port()}/api/chat.postMessage")
    failure = slack_error(error, posting=True)
    assert isinstance(failure, TemporaryFailure) and not isinstance(failure, OutcomeUnknown)


async def test_slack_dropped_connection_and_timeout_after_sending_are_in_doubt(
    dropping_server: str, silent_server: str
) -> None:
    dropped = await _aiohttp_failure(dropping_server)
    timed_out = await _aiohttp_failure(silent_server, seconds=0.3)
    assert isinstance(slack_error(dropped, posting=True), OutcomeUnknown)
    assert isinstance(slack_error(timed_out, posting=True), OutcomeUnknown)
    # Reads and edits are not in doubt: doing them twice changes nothing.
    assert not isinstance(slack_error(dropped), OutcomeUnknown)


async def test_teams_refused_connection_is_known_and_a_drop_or_timeout_is_in_doubt(
    dropping_server: str, silent_server: str
) -> None:
    refused = await asyncio.to_thread(
        _requests_failure, f"http://127.0.0.1:{_closed_port()}/v3/conversations/a/activities"
    )
    dropped = await asyncio.to_thread(_requests_failure, dropping_server)
    timed_out = await asyncio.to_thread(_requests_failure, silent_server, 0.3)
    assert not isinstance(teams_error(refused, posting=True), OutcomeUnknown)
    assert isinstance(teams_error(dropped, posting=True), OutcomeUnknown)
    assert isinstance(teams_error(timed_out, posting=True), OutcomeUnknown)
    assert not isinstance(teams_error(dropped), OutcomeUnknown)
