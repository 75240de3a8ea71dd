"""A loopback chat service that records every message it receives, for exactly-once checks.

`POST /send` records {key, user} *before* answering (after an optional delay), so a sender
killed while waiting for the answer leaves a delivery the outbox must recognise, not repeat;
`GET /delivered?key=…` answers whether a key arrived (a sender's `find_delivered`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class RecordingChat:
    delay: float = 0.0
    received: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    @property
    def per_key(self) -> Counter[str]:
        return Counter(key for key, _ in self.received)

    @property
    def per_user(self) -> Counter[str]:
        return Counter(user for _, user in self.received)

    async def start(self) -> RecordingChat:
        app = web.Application()
        app.router.add_post("/send", self._send)
        app.router.add_get("/delivered", self._delivered)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append((body["key"], body["user"]))
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.json_response({"ok": True, "ref": body["key"]})

    async def _delivered(self, request: web.Request) -> web.Response:
        key = request.query["key"]
        return web.json_response({"delivered": any(k == key for k, _ in self.received)})
