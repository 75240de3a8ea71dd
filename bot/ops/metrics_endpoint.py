"""`GET /metrics`: Prometheus metrics in the text exposition format.

With worker processes (`PROMETHEUS_MULTIPROC_DIR` set by `kudos-pulse run`) every process
writes its samples to files in that directory and this endpoint, served by the process that
answers the platforms, adds them up; otherwise it renders this process's registry."""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


async def metrics(_request: web.Request) -> web.Response:
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    response = web.Response(body=body)
    # aiohttp refuses a charset inside content_type, so set the header verbatim.
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


Handler = Callable[[web.Request], Awaitable[web.Response]]


def metrics_handler(token: str | None) -> Handler:
    """`metrics`, open when `token` is None, else only for `Authorization: Bearer <token>`."""
    if token is None:
        return metrics
    expected = f"Bearer {token}".encode()

    async def guarded(request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401, text="metrics need a bearer token")
        return await metrics(request)

    return guarded
