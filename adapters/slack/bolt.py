"""The slack-bolt AsyncApp: signature checks always on, acks answered before slow work.

Authorization runs before every listener, i.e. inside the 3-second window. Bolt's defaults
call `auth.test` there (once per process in single-workspace mode, on every request in OAuth
mode); both are replaced by cached answers so a slow Slack cannot delay an acknowledgement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import (
    AsyncAuthorize,
    AsyncInstallationStoreAuthorize,
)
from slack_bolt.logger import get_bolt_logger
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import SlackClients
from adapters.slack.installations import DatabaseInstallationStore, DatabaseOAuthStateStore
from adapters.slack.manifest import BOT_SCOPES
from adapters.slack.oauth import AllowListOAuthFlow
from bot.ops.config import Config
from bot.runtime.clock import Clock
from storage.db import Database

log = logging.getLogger(__name__)


class BotIdentity(AsyncAuthorize):
    """Single-workspace authorization from the bot's `auth.test`, fetched once, ahead of time.

    Until Slack has answered, requests are authorized with the token alone (the bot's own user
    id is then unknown, which only matters for ignoring the bot's own message events)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._answer: asyncio.Task[Any] | None = None

    def warm_up(self) -> None:
        with contextlib.suppress(RuntimeError):  # no running loop: the first request fetches it
            self._fetch()

    def _fetch(self) -> asyncio.Task[Any]:
        if self._answer is None or (self._answer.done() and self._answer.exception()):
            self._answer = asyncio.get_running_loop().create_task(self.client.auth_test())
            self._answer.add_done_callback(_quiet)
        return self._answer

    async def __call__(
        self,
        *,
        context: Any,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_actor: Any,
    ) -> AuthorizeResult:
        task = self._fetch()
        if not task.done():  # never make Slack wait for Slack: authorize with the token
            return AuthorizeResult(
                enterprise_id=enterprise_id,
                team_id=team_id,
                bot_token=self.client.token,
                user_id=user_id,
            )
        answer = task.result()
        return AuthorizeResult(
            enterprise_id=answer.get("enterprise_id") or enterprise_id,
            team_id=answer.get("team_id") or team_id,
            bot_token=self.client.token,
            bot_id=answer.get("bot_id"),
            bot_user_id=answer.get("user_id"),
            user_id=user_id,
        )


def _quiet(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("slack auth.test failed: %s", task.exception())


def _warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def bolt_logger() -> logging.Logger:
    """Bolt's base logger. Bolt copies its level and filters onto every logger it creates
    (`slack_bolt.RequestVerification`, `kudos-pulse:…`); without one they take the root's level
    and log whole request bodies at INFO/DEBUG. The filter holds whatever level is set."""
    logger = logging.getLogger("slack_bolt")
    if _warnings_only not in logger.filters:
        logger.addFilter(_warnings_only)
    return logger


class _TokenNotice(logging.Filter):
    """Drops Bolt's start-up notice that a token is unused. Bolt reads `SLACK_BOT_TOKEN` from
    the environment itself even when given a client and an authorizer — exactly how this bot
    passes the token on — so the notice would appear on every start while meaning nothing."""

    NOTICES = frozenset({warning_client_prioritized_and_token_skipped(), warning_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.NOTICES


def _quiet_token_notice() -> None:
    # On Bolt's own logger for the app and on the one this bot hands it (`bolt_logger`).
    for bolt_log in (get_bolt_logger(AsyncApp), bolt_logger()):
        if not any(isinstance(known, _TokenNotice) for known in bolt_log.filters):
            bolt_log.addFilter(_TokenNotice())


def build_bolt_app(config: Config, clients: SlackClients, db: Database, clock: Clock) -> AsyncApp:
    settings = config.slack
    _quiet_token_notice()
    common: dict[str, Any] = {
        "name": "kudos-pulse",
        "logger": bolt_logger(),
        "signing_secret": settings.signing_secret or "",
        # Our listeners ack and hand slow work to background tasks themselves; Bolt's default
        # runner would add ~10 ms per request polling for the ack (PLATFORMS.md §1.2).
        "process_before_response": True,
        # Never switched off: a request without a valid, fresh signature gets 401.
        "request_verification_enabled": True,
        # A signed payload no listener matches reaches the listeners' error handler, which
        # answers 200: Slack counts other answers toward disabling the app's events.
        "raise_error_for_unhandled_request": True,
    }
    if settings.client_id and settings.client_secret:
        installations = clients.installations
        assert isinstance(installations, DatabaseInstallationStore)
        client = clients.for_token(None)
        redirect_uri = (
            f"{config.public_url.rstrip('/')}/slack/oauth_redirect" if config.public_url else None
        )
        oauth = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=BOT_SCOPES,
            redirect_uri=redirect_uri,
            installation_store=installations,
            state_store=DatabaseOAuthStateStore(db, clock),
        )
        flow = AllowListOAuthFlow(
            client=client, settings=oauth, allowlist=settings.install_allowlist
        )
        authorize = AsyncInstallationStoreAuthorize(
            logger=log,
            installation_store=installations,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            cache_enabled=True,  # auth.test once per token, not once per request
            client=client,
        )
        return AsyncApp(
            client=client,
            installation_store=installations,
            authorize=authorize,
            oauth_flow=flow,
            **common,
        )
    identity = BotIdentity(clients.for_token(settings.bot_token))
    identity.warm_up()
    # The token travels in each request's AuthorizeResult; a token on Bolt's own client as well
    # would only earn a start-up warning that it is ignored.
    return AsyncApp(client=clients.for_token(None), authorize=identity, **common)
