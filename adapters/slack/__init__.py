"""Slack adapter: a slack-bolt AsyncApp on the bot's aiohttp server, Socket Mode, OAuth.

`install(app)` wires it into the composition root:
- `POST /slack/events` (commands, events, interactivity), signature-checked and size-capped by
  `verify.SlackGate` before Bolt sees it (and checked again by Bolt);
- `GET /slack/install` and `/slack/oauth_redirect` when a client id and secret are set
  (installations and OAuth state in our database);
- Socket Mode as a background task when `SLACK_APP_TOKEN` is set;
- the Slack `Platform` (directory + sender) the core and the outbox use.
"""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from adapters.slack.background import BackgroundWork
from adapters.slack.bolt import build_bolt_app
from adapters.slack.clients import SlackClients
from adapters.slack.installations import DatabaseInstallationStore
from adapters.slack.listeners import SlackListeners
from adapters.slack.platform import SlackPlatform
from adapters.slack.replies import ReplyPresenter
from adapters.slack.verify import Rejected, SlackGate
from bot.app import Application
from bot.ops import logcontext
from bot.ops.keys import TokenCipher
from bot.ops.metrics import ACK_SECONDS

__all__ = ["SlackAdapter", "install"]


@dataclass
class SlackAdapter:
    bolt: AsyncApp
    platform: SlackPlatform
    clients: SlackClients
    work: BackgroundWork
    gate: SlackGate | None = None

    async def handle(self, request: web.Request) -> web.Response:
        """One HTTP request from Slack, answered as soon as the listener has acked."""
        assert self.gate is not None, "HTTP mode is mounted only with a signing secret"
        started = time.perf_counter()
        try:
            body = await self.gate.read(request)
        except Rejected as rejected:
            # Not timed (the ack metric is for real requests), given no request id, not logged.
            return rejected.response()
        with logcontext.bind(platform="slack", request_id=uuid.uuid4().hex[:12]):
            bolt_request = AsyncBoltRequest(
                body=body.decode("utf-8", errors="replace"),
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
            response = await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))
        ACK_SECONDS.labels("slack").observe(time.perf_counter() - started)
        return response

    async def install_page(self, request: web.Request) -> web.Response:
        flow = self.bolt.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request))
        )

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.bolt.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    async def close(self) -> None:
        await self.work.shutdown(seconds=2.0)
        await self.clients.close()


def install(app: Application, **options: Any) -> SlackAdapter:
    """Mount Slack on `app`.

    Options: `concurrency` (core work in flight after acks, default 4); `freeze_gc` (default True;
    test suites that build many apps in one process turn it off)."""
    settings = app.config.slack
    oauth = bool(settings.client_id and settings.client_secret)
    installations = (
        DatabaseInstallationStore(
            app.db,
            app.clock,
            settings.client_id or "",
            # Tokens are sealed under a key derived from the pulse key every process shares.
            TokenCipher(app.pulses.service.box.keyring),
            key_check=app.pulses.service.key_check.ensure,
        )
        if oauth
        else None
    )
    clients = SlackClients(settings, installations)
    platform = SlackPlatform(clients)
    app.add_platform(platform)
    bolt = build_bolt_app(app.config, clients, app.db, app.clock)
    work = BackgroundWork(concurrency=int(options.get("concurrency", 4)))
    presenter = ReplyPresenter(clients, platform)
    SlackListeners(
        app.core, app.config, clients, presenter, work, app.inbox, app.home_pictures
    ).register(bolt)
    adapter = SlackAdapter(bolt=bolt, platform=platform, clients=clients, work=work)

    if settings.signing_secret:  # HTTP mode needs the secret to verify every request
        adapter.gate = SlackGate(settings.signing_secret)
        app.web.router.add_post("/slack/events", adapter.handle)
    if oauth and bolt.oauth_flow is not None:
        app.web.router.add_get(bolt.oauth_flow.install_path, adapter.install_page)
        app.web.router.add_get(bolt.oauth_flow.redirect_uri_path, adapter.oauth_redirect)
    if settings.app_token:
        app.add_background(_socket_mode(bolt, settings.app_token, clients), intake=True)
    app.on_shutdown(adapter.close)
    # Everything built so far (modules, Bolt, SQLAlchemy's mappers …) lives as long as the
    # process; moving it out of the collector's reach keeps full collections, which stop the
    # event loop and therefore the acks, short (gen2 measured ~180 ms → a few ms). Young
    # collections every 20,000 allocations instead of 700: a request allocates thousands, and
    # each collection is a pause in the same loop (ack p99 at 100/s: 6.5 → 6.0 ms).
    if options.get("freeze_gc", True):
        gc.freeze()
        gc.set_threshold(20_000, 50, 100)
    return adapter


def _socket_mode(bolt: AsyncApp, app_token: str, clients: SlackClients) -> Any:
    async def run(stop: asyncio.Event) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        class MeasuredHandler(AsyncSocketModeHandler):
            async def handle(self, client: Any, req: Any) -> None:
                started = time.perf_counter()
                with logcontext.bind(platform="slack", request_id=req.envelope_id):
                    await super().handle(client, req)  # runs Bolt and sends the ack envelope
                ACK_SECONDS.labels("slack").observe(time.perf_counter() - started)

        handler = MeasuredHandler(bolt, app_token, web_client=clients.for_token(None))
        await handler.connect_async()
        try:
            await stop.wait()
        finally:
            await handler.close_async()

    return run
