"""Hostile traffic at /slack/events: malformed or forged headers get 401 and oversized bodies
413 before Bolt reads them; nothing is stored or posted, and no body reaches the log."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import logging
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse

from adapters.slack.verify import MAX_BODY
from bot.ops import logsetup
from bot.ops.metrics import REJECTED_REQUESTS
from storage.models import InboxItem, Person, ProcessedEvent, Workspace
from tests.harness.helpers import count, stored_kudos
from tests.harness.slack import SECRET, SlackHarness, slash_command

pytestmark = pytest.mark.asyncio

MARKER = "HOSTILE-BODY-MARKER"


def _signature(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _command(slack: SlackHarness, text: str) -> bytes:
    return urlencode(slash_command(slack.fake, text, trigger_id="trigger-hostile")).encode()


async def _post(
    slack: SlackHarness, body: bytes | AsyncIterator[bytes], headers: dict[str, str]
) -> ClientResponse:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    return await slack.client.post("/slack/events", data=body, headers=headers)


async def _nothing_happened(slack: SlackHarness) -> None:
    await slack.settle()
    assert await stored_kudos(slack.app.db) == (0, 0, 0)
    for model in (Person, Workspace, InboxItem, ProcessedEvent):
        assert await count(slack.app.db, model) == 0, model.__name__
    assert slack.fake.responses == []
    assert [call.method for call in slack.fake.calls if call.method != "auth.test"] == []


# Each made from the time of sending, given as `now`.
TIMESTAMPS: dict[str, str | None] = {
    "absent": None,
    "empty": "",
    "letters": "abc",
    "exponent": "1e9",
    "fraction": "{now}.5",
    "leading space": " {now}",
    "superscript digit": "{now}\u00b2",
    "Arabic-Indic digits": "\u0661\u0662\u0663",
    "forty digits": "9" * 40,
    "stale": "{stale}",
    "from the future": "{future}",
}


@pytest.mark.parametrize("pattern", TIMESTAMPS.values(), ids=TIMESTAMPS.keys())
async def test_a_bad_timestamp_is_refused_with_401(
    slack: SlackHarness, pattern: str | None
) -> None:
    now = int(time.time())
    timestamp = pattern and pattern.format(now=now, stale=now - 305, future=now + 305)
    body = _command(slack, "<@UBOB|bob> for the careful review #easy")
    # Signed with the real secret over the bad timestamp: only the timestamp is wrong.
    headers = {"X-Slack-Signature": _signature(body, timestamp or "")}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp

    response = await _post(slack, body, headers)

    assert response.status == 401
    await _nothing_happened(slack)


SIGNATURES = {
    "absent": None,
    "empty": "",
    "no version": "0" * 64,
    "v1": "v1=" + "0" * 64,
    "uppercase hex": "V0=" + "A" * 64,
    "short": "v0=abc",
    "other secret": "other",
    "signed other body": "other body",
}


@pytest.mark.parametrize("signature", SIGNATURES.values(), ids=SIGNATURES.keys())
async def test_a_bad_signature_is_refused_with_401(
    slack: SlackHarness, signature: str | None
) -> None:
    body = _command(slack, "<@UBOB|bob> for the careful review #easy")
    timestamp = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": timestamp}
    if signature == "other secret":
        signature = _signature(body, timestamp, "not-the-secret")
    elif signature == "other body":
        signature = _signature(body + b"&x=1", timestamp)
    if signature is not None:
        headers["X-Slack-Signature"] = signature

    response = await _post(slack, body, headers)

    assert response.status == 401
    await _nothing_happened(slack)


async def test_an_oversized_body_is_refused_with_413_even_when_signed(slack: SlackHarness) -> None:
    body = _command(slack, "<@UBOB|bob> " + "x" * MAX_BODY)
    timestamp = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": _signature(body, timestamp),
    }

    response = await _post(slack, body, headers)

    assert response.status == 413
    await _nothing_happened(slack)


async def test_an_oversized_chunked_body_is_refused_with_413(slack: SlackHarness) -> None:
    timestamp = str(int(time.time()))
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}

    async def endless() -> AsyncIterator[bytes]:  # no Content-Length: the cap counts as it reads
        for _ in range(MAX_BODY // 1024 + 2):
            yield b"x" * 1024

    response = await _post(slack, endless(), headers)

    assert response.status == 413
    await _nothing_happened(slack)


async def test_a_signed_body_just_under_the_cap_is_served(slack: SlackHarness) -> None:
    form = slash_command(slack.fake, "help", trigger_id="trigger-big")
    padding = MAX_BODY - len(urlencode({**form, "pad": ""}).encode())
    body = urlencode({**form, "pad": "x" * padding}).encode()
    assert len(body) == MAX_BODY
    timestamp = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": _signature(body, timestamp),
    }

    response = await _post(slack, body, headers)

    assert response.status == 200


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """The process's real logging at DEBUG — the most an operator can turn on."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    chatty = {name: logging.getLogger(name).level for name in logsetup.CHATTY}
    stream = io.StringIO()
    logsetup.configure(level="DEBUG", log_format="json", stream=stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in chatty.items():
        logging.getLogger(name).setLevel(level)


async def test_rejected_bodies_never_reach_the_log(
    slack: SlackHarness, debug_log: io.StringIO
) -> None:
    timestamp = str(int(time.time()))
    forged = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    small = _command(slack, MARKER)
    large = _command(slack, MARKER * (MAX_BODY // len(MARKER) // 2))
    requests = [
        (small, forged, 401),
        (large, forged, 401),
        (small, {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=x"}, 401),
        (_command(slack, MARKER * MAX_BODY), forged, 413),
    ]
    rounds = 25
    for _ in range(rounds):
        for body, headers, status in requests:
            assert (await _post(slack, body, headers)).status == status

    log = debug_log.getvalue()
    assert MARKER not in log
    # One short line per rejection, whatever the body's size (measured: about 200 bytes).
    assert len(log.encode()) <= 300 * rounds * len(requests), len(log.encode())
    await _nothing_happened(slack)


async def test_rejections_are_counted_and_summed_up_not_logged_one_by_one(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    timestamp = str(int(time.time()))
    forged = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    before = {
        status: REJECTED_REQUESTS.labels(platform="slack", status=status)._value.get()
        for status in ("401", "413")
    }
    for _ in range(40):
        assert (await _post(slack, _command(slack, MARKER), forged)).status == 401
    assert (await _post(slack, _command(slack, MARKER * MAX_BODY), forged)).status == 413

    counted = {
        status: REJECTED_REQUESTS.labels(platform="slack", status=status)._value.get() - n
        for status, n in before.items()
    }
    assert counted == {"401": 40, "413": 1}
    # At INFO (the default) at most one summary line for the lot, and never a body.
    rejected_lines = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert len(rejected_lines) <= 1
    assert not any(MARKER in r.getMessage() for r in caplog.records)
    await _nothing_happened(slack)


async def test_a_body_of_unknown_length_is_refused_before_it_is_read(slack: SlackHarness) -> None:
    timestamp = str(int(time.time()))
    body = _command(slack, MARKER)
    # Neither Content-Length nor chunked: no length to check against the cap. (Bytes sent after
    # such headers are a malformed next request to aiohttp's parser, which answers 400 itself.)
    request = (
        "POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Slack-Request-Timestamp: {timestamp}\r\n"
        f"X-Slack-Signature: {_signature(body, timestamp)}\r\n\r\n"
    ).encode()
    server = slack.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(request)
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), 10)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 411")
    await _nothing_happened(slack)
