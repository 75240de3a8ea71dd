"""The slack-bolt AsyncApp: signature checks always on, acks answered before slow work."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from adapters.slack.clients import SlackClients
from adapters.slack.installations import DatabaseInstallationStore, DatabaseOAuthStateStore
from adapters.slack.manifest import BOT_SCOPES
from bot.clock import Clock
from bot.config import Config
from storage.db import Database

log = logging.getLogger(__name__)


def build_bolt_app(
    config: Config,
    clients: SlackClients,
    db: Database,
    clock: Clock,
) -> AsyncApp:
    settings = config.slack
    common = {
        "name": "kudos-pulse",
        "signing_secret": settings.signing_secret or "",
        # Our listeners ack and hand slow work to background tasks themselves; Bolt's default
        # runner would add ~10 ms per request polling for the ack (PLATFORMS.md §1.2).
        "process_before_response": True,
        # Never switched off: a request without a valid, fresh signature gets 401.
        "request_verification_enabled": True,
    }
    if settings.client_id and settings.client_secret:
        installations = clients.installations
        assert isinstance(installations, DatabaseInstallationStore)
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
        return AsyncApp(
            client=clients.for_token(None),
            installation_store=installations,
            oauth_settings=oauth,
            **common,
        )
    return AsyncApp(client=clients.for_token(settings.bot_token), **common)
