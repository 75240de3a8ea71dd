"""Microsoft Teams adapter: Bot Framework at POST /api/messages on the bot's web server.

Requests are JWT-checked (`auth.py`, `gate.py`) whenever an app id is configured; without one
(tests, the local Bot Framework Emulator) anonymous requests are accepted, as botbuilder does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from msrest.universal_http.requests import ClientRetryPolicy

from adapters.teams import charts
from adapters.teams.auth import BotFrameworkAuth, KeySet
from adapters.teams.charts import ChartLinks, HomeCharts
from adapters.teams.conversations import ConversationRefs
from adapters.teams.gate import Rejected, TeamsGate
from adapters.teams.handler import KudosTeamsBot
from adapters.teams.pages import mount as mount_pages
from adapters.teams.platform import TeamsPlatform
from bot.app import Application
from bot.ops.config import ConfigError, TeamsSettings
from bot.ops.keys import load_keyring
from bot.ops.metrics import ACK_SECONDS
from bot.runtime.outbox import wakes_after_answer

__all__ = ["ROUTE", "TeamsPlatform", "install"]

ROUTE = "/api/messages"


@dataclass(frozen=True)
class _AuthConfiguration:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str


def authentication(settings: TeamsSettings) -> ConfigurationBotFrameworkAuthentication:
    if settings.app_type == "SingleTenant" and not (
        settings.app_id and settings.app_password and settings.app_tenant_id
    ):
        raise ConfigError(
            "teams: a SingleTenant bot needs MICROSOFT_APP_ID, MICROSOFT_APP_PASSWORD and "
            "MICROSOFT_APP_TENANT_ID"
        )
    if settings.app_type == "UserAssignedMSI" and not (settings.app_id and settings.app_tenant_id):
        raise ConfigError(
            "teams: a UserAssignedMSI bot needs MICROSOFT_APP_ID and MICROSOFT_APP_TENANT_ID"
        )
    return ConfigurationBotFrameworkAuthentication(
        _AuthConfiguration(
            APP_ID=settings.app_id or "",
            APP_PASSWORD=settings.app_password or "",
            APP_TYPE=settings.app_type,
            APP_TENANTID=settings.app_tenant_id or "",
        )
    )


def cheap_retry_policies() -> None:
    """botbuilder makes a connector client (and a token client) for every turn and every
    proactive send; each builds msrest's retry policy, whose status list is computed with
    `code not in safe_codes` against a 500-entry list: ~15 ms of CPU per client, several per
    turn. The same codes as a frozenset give the same list in ~0.2 ms."""
    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)


def install(app: Application) -> TeamsPlatform:
    cheap_retry_policies()
    settings = app.config.teams
    framework = authentication(settings)
    adapter = CloudAdapter(framework)
    refs = ConversationRefs(app.db, app.core.people, app.clock)
    platform = TeamsPlatform(adapter, settings.app_id or "", refs)
    # Chart links are signed with a key of their own, derived from the pulse key every
    # process against this database holds (bot/ops/keys.py).
    keyring = load_keyring(app.config, create=True)
    platform.charts = ChartLinks(
        app.db, app.clock, keyring.derive(charts.KEY_PURPOSE), app.config.public_url
    )
    bot = KudosTeamsBot(platform, app.core, HomeCharts(platform.charts, app.home_pictures))
    auth = (
        BotFrameworkAuth(settings.app_id, KeySet(settings.openid_metadata_url))
        if settings.app_id
        else None
    )
    gate = TeamsGate(framework, auth)

    async def messages(request: web.Request) -> web.StreamResponse:
        try:
            activity, authenticated = await gate.admit(request)
        except Rejected as rejected:
            return rejected.response()  # not timed: the ack metric is for real requests
        started = time.perf_counter()
        try:
            # What CloudAdapter.process does once the request is read and authenticated. The
            # in-turn answer leaves before the messages the turn queued (channel post, DMs).
            with wakes_after_answer():
                invoke = await adapter.process_activity(authenticated, activity, bot.on_turn)
        finally:
            ACK_SECONDS.labels("teams").observe(time.perf_counter() - started)
        if invoke:
            return web.json_response(data=serializer_helper(invoke.body), status=invoke.status)
        return web.Response(status=201)

    app.web.router.add_post(ROUTE, messages)
    charts.mount(app.web, platform.charts)
    mount_pages(app.web, app.config)  # what the package's privacyUrl/termsOfUseUrl link to
    app.add_platform(platform)
    return platform
