"""OAuth installations and OAuth state in our own tables (SQLite and PostgreSQL alike).

slack-sdk ships SQLAlchemy stores, but they create their own tables; ours are owned by the
Alembic migrations (`slack_installations`, `slack_oauth_states`).
"""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.runtime.clock import Clock
from storage.db import Database
from storage.repositories import slack_oauth

log = logging.getLogger(__name__)


# Bolt looks the installation up before every listener, inside the 3-second window; a short
# memory keeps a slow database out of that path. Another process's change shows within this.
CACHE_SECONDS = 60.0
MISSING_SECONDS = 5.0

_Key = tuple[str, str, str, bool]


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(self, db: Database, clock: Clock, client_id: str) -> None:
        self.db = db
        self.clock = clock
        self.client_id = client_id
        self._cache: dict[_Key, tuple[float, Installation | None]] = {}

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        self._cache.clear()
        async with self.db.write() as unit:
            await slack_oauth.add_installation(
                unit,
                client_id=self.client_id,
                enterprise_id=installation.enterprise_id or "",
                team_id=installation.team_id or "",
                user_id=installation.user_id or "",
                is_enterprise_install=bool(installation.is_enterprise_install),
                data=_jsonable(installation.to_dict_for_copying()),
                now=self.clock.now(),
            )

    async def async_save_bot(self, bot: Bot) -> None:
        # Bots are read from the latest installation; nothing separate to keep.
        return None

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        if installation is None or not installation.bot_token:
            return None
        return installation.to_bot()

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        if is_enterprise_install:
            team_id = None  # an org-wide install is the same for every workspace of the org
        key = (enterprise_id or "", team_id or "", user_id or "", bool(is_enterprise_install))
        cached = self._cache.get(key)
        if cached is not None:
            # "Not installed" is kept only briefly: another process may be installing it now.
            ttl = CACHE_SECONDS if cached[1] is not None else MISSING_SECONDS
            if time.monotonic() - cached[0] < ttl:
                return cached[1]
        found = await self._find(enterprise_id, team_id, user_id)
        self._cache[key] = (time.monotonic(), found)
        return found

    async def _find(
        self, enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> Installation | None:
        async with self.db.read() as unit:
            data = await slack_oauth.latest_installation(
                unit, self.client_id, enterprise_id or "", team_id or "", user_id or ""
            )
        return None if data is None else Installation(**data)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self._cache.clear()
        async with self.db.write() as unit:
            await slack_oauth.delete_installations(
                unit, self.client_id, enterprise_id or "", team_id or "", user_id or ""
            )


class DatabaseOAuthStateStore(AsyncOAuthStateStore):
    """One-time `state` values for the OAuth redirect, shared by every process."""

    def __init__(self, db: Database, clock: Clock, expiration_seconds: int = 600) -> None:
        self.db = db
        self.clock = clock
        self.expiration = timedelta(seconds=expiration_seconds)

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.db.write() as unit:
            await slack_oauth.add_state(unit, state, now=now, expires_at=now + self.expiration)
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state we issued that has not expired; deleting it makes it single-use."""
        async with self.db.write() as unit:
            expires_at = await slack_oauth.take_state(unit, state)
        return expires_at is not None and expires_at >= self.clock.now()


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.timestamp() if isinstance(value, datetime) else value
        for key, value in data.items()
    }
