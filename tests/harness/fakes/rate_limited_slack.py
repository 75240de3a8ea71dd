"""A loopback fake of Slack's `chat.postMessage` with a hard per-second limit.

At most `limit` calls are accepted per second (a fixed-window counter: each whole second of
the fake's clock starts a fresh allowance, so short bursts inside a second pass, as Slack's own
limits allow "bursts over that limit for short periods"); beyond that it answers HTTP 429 with
`Retry-After` (whole seconds until the next window, at least 1), as Slack does. Every accepted
message is recorded with the outbox key the sender put in its metadata, so lost and duplicated
messages can be counted. Any channel's members are `members` people U0000000 …
(`conversations.members`, paged like Slack), and `users.info` knows each of them."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class RateLimitedSlack:
    limit: int = 50
    retry_after: int = 1
    members: int = 0
    accepted: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    url: str = ""
    _second: int = -1
    _used: int = 0
    _runner: web.AppRunner | None = None
    _expected: int = 2**62
    _complete: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> RateLimitedSlack:
        app = web.Application()
        app.router.add_post("/api/chat.postMessage", self._post_message)
        app.router.add_route("*", "/api/conversations.members", self._conversations_members)
        app.router.add_route("*", "/api/users.info", self._users_info)
        app.router.add_route("*", "/api/conversations.info", self._conversations_info)
        app.router.add_get("/stats", self._stats)
        app.router.add_get("/wait", self._wait)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/"
        return self

    async def all_received(self, distinct: int) -> None:
        """Wait until `distinct` different messages were accepted."""
        self._expected = distinct
        if len(self.accepted) < distinct:
            await self._complete.wait()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _stats(self, _request: web.Request) -> web.Response:
        return web.json_response({"accepted": dict(self.accepted), "rejected": self.rejected})

    async def _wait(self, request: web.Request) -> web.Response:
        await self.all_received(int(request.query["distinct"]))
        return web.json_response({"ok": True})

    async def _conversations_members(self, request: web.Request) -> web.Response:
        args = {**request.query, **(await request.post())}
        start = int(str(args.get("cursor") or 0))
        size = int(str(args.get("limit") or 100))
        page = [f"U{n:07d}" for n in range(start, min(start + size, self.members))]
        following = start + size
        cursor = str(following) if following < self.members else ""
        return web.json_response(
            {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}
        )

    async def _conversations_info(self, request: web.Request) -> web.Response:
        args = {**request.query, **(await request.post())}
        channel = {"id": str(args.get("channel")), "is_ext_shared": False}
        return web.json_response({"ok": True, "channel": channel})

    async def _users_info(self, request: web.Request) -> web.Response:
        args = {**request.query, **(await request.post())}
        user = str(args.get("user"))
        return web.json_response(
            {"ok": True, "user": {"id": user, "name": user, "tz": "UTC", "is_bot": False}}
        )

    async def _post_message(self, request: web.Request) -> web.Response:
        second = int(time.monotonic())
        if second != self._second:
            self._second, self._used = second, 0
        if self._used >= self.limit:
            self.rejected += 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        self._used += 1
        body = await request.json()
        key = body.get("metadata", {}).get("event_payload", {}).get("key", "")
        self.accepted[key] += 1
        if len(self.accepted) >= self._expected:
            self._complete.set()
        return web.json_response(
            {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}"}
        )


async def _serve(limit: int, members: int) -> None:
    fake = await RateLimitedSlack(limit=limit, members=members).start()
    print(fake.url, flush=True)
    await asyncio.Event().wait()  # until the benchmark terminates this process


if __name__ == "__main__":
    # Run on its own (`python -m tests.harness.fakes.rate_limited_slack 50`) so that, like the real
    # Slack, it does not share an event loop or a CPU with the bot being measured.
    import sys

    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    asyncio.run(_serve(limit, int(sys.argv[2]) if len(sys.argv) > 2 else 0))
