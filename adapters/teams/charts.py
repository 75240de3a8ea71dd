"""Charts on Teams: an Adaptive Card `Image` loads its picture by URL, so the bot serves the
PNGs it drew itself at GET /charts/<token>.png.

The token is a capability: a random id, an expiry, and an HMAC over both with a key derived
(HKDF) from the pulse key, which every process against one database shares — any web process
can check a link any worker minted. Unguessable (the id is random, the signature unforgeable),
short-lived (the expiry is signed; the stored PNG is dropped after it), and served privately.
The PNGs live in the database rather than a directory for the same reason: the process that
draws (a worker) and the one Teams fetches from (web) need not share a disk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from datetime import datetime, timedelta

from aiohttp import web

from bot.messages import Chart, Message
from bot.runtime.clock import Clock
from bot.runtime.pictures import PictureCache
from storage.db import Database
from storage.repositories import charts as rows

ROUTE = "/charts/{name}"
KEY_PURPOSE = "chart-url"
# Long enough to read a week's digest on any device; the card's words remain after that.
LIFETIME = timedelta(days=3)
# Home pictures' links remembered (PNG digest → URL), so a refresh stores no new copy.
KNOWN_URLS = 2048
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{20,64})\.(\d{1,12})\.([A-Za-z0-9_-]{43})\.png$")


class BadLink(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class ChartLinks:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        key: bytes,
        public_url: str | None,
        lifetime: timedelta = LIFETIME,
    ) -> None:
        self.db = db
        self.clock = clock
        self.key = key
        self.base = public_url.rstrip("/") if public_url else None
        self.lifetime = lifetime

    def _signature(self, chart_id: str, expires: int) -> str:
        mac = hmac.new(self.key, f"{chart_id}.{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def token(self, chart_id: str, expires_at: datetime) -> str:
        expires = int(expires_at.timestamp())
        return f"{chart_id}.{expires}.{self._signature(chart_id, expires)}"

    def check(self, name: str, now: datetime) -> str:
        """The chart id a `<token>.png` names, if its signature holds and it has not expired."""
        match = _TOKEN.match(name)
        if match is None:
            raise BadLink(403, "malformed chart link")
        chart_id, expires, signature = match.group(1), int(match.group(2)), match.group(3)
        if not hmac.compare_digest(signature, self._signature(chart_id, expires)):
            raise BadLink(403, "forged chart link")
        if expires <= now.timestamp():
            raise BadLink(404, "expired chart link")
        return chart_id

    async def publish(self, png: bytes) -> str | None:
        """Store `png` and return the URL a card can load it from; None when the bot has no
        public address (`public_url`): the card then shows the chart's words instead."""
        if self.base is None:
            return None
        now = self.clock.now()
        chart_id = secrets.token_urlsafe(24)
        expires_at = now + self.lifetime
        async with self.db.write() as session:
            await rows.save(session, chart_id, png, now, expires_at)
        return f"{self.base}/charts/{self.token(chart_id, expires_at)}.png"

    async def serve(self, request: web.Request) -> web.StreamResponse:
        now = self.clock.now()
        try:
            chart_id = self.check(request.match_info["name"], now)
        except BadLink as bad:
            return web.Response(status=bad.status, text="not available\n")
        async with self.db.read() as session:
            png = await rows.find(session, chart_id, now)
        if png is None:
            return web.Response(status=404, text="not available\n")
        return web.Response(
            body=png,
            content_type="image/png",
            headers={
                # A capability, not a public asset: no shared cache may keep it.
                "Cache-Control": "private, max-age=3600",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )


def mount(web_app: web.Application, links: ChartLinks) -> None:
    web_app.router.add_get(ROUTE, links.serve)


class HomeCharts:
    """The pictures of a home card (a lead's team maps). A card is answered in the turn or the
    refresh invoke, so nothing is drawn there: pictures already drawn get a signed URL (one
    per picture, reused while it has more than half its life left, so a refresh stores
    nothing new), and the rest are drawn in the background for the next refresh — Teams
    refreshes the card whenever its viewer opens the chat."""

    def __init__(self, links: ChartLinks, pictures: PictureCache) -> None:
        self.links = links
        self.pictures = pictures
        self._urls: OrderedDict[str, tuple[str, datetime]] = OrderedDict()

    async def urls(self, message: Message) -> tuple[Message, dict[int, str]]:
        """`message` with its drawn charts, and by block index the URL of each."""
        if not message.home or not message.charts:
            return message, {}
        message = self.pictures.cached(message)
        self.pictures.draw_later(message)
        urls: dict[int, str] = {}
        for index, block in enumerate(message.blocks):
            if isinstance(block, Chart) and block.png is not None:
                url = await self._url(block.png)
                if url:
                    urls[index] = url
        return message, urls

    async def _url(self, png: bytes) -> str | None:
        key = hashlib.sha256(png).hexdigest()
        now = self.links.clock.now()
        known = self._urls.get(key)
        if known is not None and known[1] - now > self.links.lifetime / 2:
            return known[0]
        url = await self.links.publish(png)
        if url is not None:
            self._urls[key] = (url, now + self.links.lifetime)
            while len(self._urls) > KNOWN_URLS:
                self._urls.popitem(last=False)
        return url
