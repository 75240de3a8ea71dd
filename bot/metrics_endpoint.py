"""`GET /metrics`: the default Prometheus registry in the text exposition format."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


async def metrics(_request: web.Request) -> web.Response:
    body = generate_latest(REGISTRY)
    response = web.Response(body=body)
    # aiohttp refuses a charset inside content_type, so set the header verbatim.
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response
