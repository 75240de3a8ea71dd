"""A cheap gate in front of Bolt for every request to /slack/events.

Bolt reads and parses the whole body before it checks the signature, and logs a rejected
request with its body. Here the headers are checked first (a fresh whole-second timestamp, a
well-formed `v0=` signature), then the body is read up to `MAX_BODY` and its HMAC compared;
only a request that passes reaches Bolt. A rejection costs about what a small request does,
is logged once at DEBUG without its body (counted in `kudos_pulse_rejected_requests_total`,
with a summary line at most once a minute), and stores nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.ops.metrics import RejectionTally

log = logging.getLogger(__name__)

# The largest genuine request is a modal submission at every limit the bot allows: 313,239
# bytes (bench/slack_payload_size.py). 512 KiB leaves room for Slack adding fields.
MAX_BODY = 512 * 1024
# Slack's window for a signed timestamp, in seconds either way.
MAX_AGE = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Rejected(Exception):
    status: int
    why: str

    def response(self) -> web.Response:
        response = web.Response(status=self.status, text=self.why)
        # Close instead of reading and discarding the rest of an unwanted body.
        response.force_close()
        return response


class SlackGate:
    def __init__(
        self, signing_secret: str, *, max_body: int = MAX_BODY, now: Callable[[], float] = time.time
    ) -> None:
        self._secret = signing_secret.encode()
        self.max_body = max_body
        self._now = now
        self.tally = RejectionTally("slack", log)

    async def read(self, request: web.Request) -> bytes:
        """The body of a request Slack signed, or `Rejected` (401, 413) without reading more
        of it than the cap."""
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        # fullmatch on ASCII classes: no `1e9`, `<now>.5`, `²` or surrounding space gets past.
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            raise self._reject(401, "missing or malformed signature headers")
        if abs(self._now() - int(timestamp)) > MAX_AGE:
            raise self._reject(401, "stale timestamp")
        if request.content_length is not None and request.content_length > self.max_body:
            raise self._reject(413, "body too large")
        if request.content_length is None and request.headers.get("Transfer-Encoding") is None:
            raise self._reject(411, "no Content-Length")
        body = await self._read_capped(request)
        base = b"v0:" + timestamp.encode() + b":" + body
        expected = "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise self._reject(401, "bad signature")
        return body

    async def _read_capped(self, request: web.Request) -> bytes:
        parts: list[bytes] = []
        size = 0
        while chunk := await request.content.read(_CHUNK):
            size += len(chunk)
            if size > self.max_body:  # a chunked body that never said how long it is
                raise self._reject(413, "body too large")
            parts.append(chunk)
        return b"".join(parts)

    def _reject(self, status: int, why: str) -> Rejected:
        self.tally.count(status)
        log.debug("slack request rejected: %s (%d)", why, status)
        return Rejected(status, why)
