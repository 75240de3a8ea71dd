"""OAuth installations and OAuth state in our own tables (SQLite and PostgreSQL alike).

slack-sdk ships SQLAlchemy stores, but they create their own tables; ours are owned by the
Alembic migrations (`slack_installations`, `slack_oauth_states`).

Installations are keyed by (enterprise id, team id): a workspace's own install has its team
id (and its org's id inside an Enterprise Grid org); an org-wide install
(`is_enterprise_install`) has the org id and no team. Tokens are sealed before they are
written (`TokenSeal`, given by the composition root) and opened when read; rows written
before tokens were sealed are sealed the first time the store is used.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.runtime.clock import Clock
from storage.db import Database
from storage.models import SlackInstallation
from storage.repositories import slack_oauth

log = logging.getLogger(__name__)


# Bolt looks the installation up before every listener, inside the 3-second window; a short
# memory keeps a slow database out of that path. Another process's change shows within this.
CACHE_SECONDS = 60.0
MISSING_SECONDS = 5.0

_Key = tuple[str, str, str, bool]

# The fields of a stored installation that grant access; sealed at rest.
SECRET_FIELDS = (
    "bot_token",
    "bot_refresh_token",
    "user_token",
    "user_refresh_token",
    "incoming_webhook_url",
)


class TokenSeal(Protocol):
    def seal(self, value: str, field: str) -> str: ...

    def open(self, value: str, field: str) -> str: ...

    def is_sealed(self, value: str) -> bool: ...


class DatabaseInstallationStore(AsyncInstallationStore):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        client_id: str,
        seal: TokenSeal,
        key_check: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.client_id = client_id
        self.seal = seal
        # Refuses to seal or open with a key other than the one the database was used with.
        self.key_check = key_check
        self._cache: dict[_Key, tuple[float, Installation | None]] = {}
        self._tokens: dict[tuple[str, str], tuple[float, list[str]]] = {}
        self._ready: asyncio.Task[None] | None = None

    @property
    def logger(self) -> logging.Logger:
        return log

    async def ready(self) -> None:
        """Once per process: the key matches the database's, and no token is left in clear."""
        if self._ready is None or (self._ready.done() and self._ready.exception()):
            self._ready = asyncio.ensure_future(self._prepare())
        await asyncio.shield(self._ready)

    async def _prepare(self) -> None:
        if self.key_check is not None:
            await self.key_check()
        async with self.db.read() as unit:
            rows = await slack_oauth.all_installations(unit)
        in_clear = {
            row.id: row.data for row in rows if row.id and self._sealed(row.data) != row.data
        }
        if not in_clear:
            return  # the usual start: no write at all
        async with self.db.write() as unit:
            for row_id, data in in_clear.items():
                # Sealing is idempotent, so a process doing the same at once does no harm.
                await slack_oauth.replace_data(unit, row_id, self._sealed(data))
                log.info("slack: sealed the stored tokens of installation %s", row_id)

    def _sealed(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: self.seal.seal(value, key)
            if key in SECRET_FIELDS and isinstance(value, str) and value
            else value
            for key, value in data.items()
        }

    def _opened(self, data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: self.seal.open(value, key)
            if key in SECRET_FIELDS and isinstance(value, str) and value
            else value
            for key, value in data.items()
        }

    async def async_save(self, installation: Installation) -> None:
        await self.ready()
        self._cache.clear()
        self._tokens.clear()
        async with self.db.write() as unit:
            await slack_oauth.add_installation(
                unit,
                client_id=self.client_id,
                enterprise_id=installation.enterprise_id or "",
                team_id=installation.team_id or "",
                user_id=installation.user_id or "",
                is_enterprise_install=bool(installation.is_enterprise_install),
                data=self._sealed(_jsonable(installation.to_dict_for_copying())),
                now=self.clock.now(),
            )

    async def bot_token_for(self, scope: str, team_id: str = "") -> str | None:
        """The bot token serving a workspace record (`scope`: a Grid org id or a team id),
        preferring the install of `team_id` itself, then the org-wide install, then the
        newest install of any workspace of the org."""
        tokens = await self.bot_tokens_for(scope, team_id)
        return tokens[0] if tokens else None

    async def bot_tokens_for(self, scope: str, team_id: str = "") -> list[str]:
        """Every distinct bot token that may serve `scope`, best first (see `bot_token_for`):
        with per-workspace installs inside an org, a channel of one workspace is reached
        only with that workspace's token."""
        key = (scope, team_id)
        cached = self._tokens.get(key)
        if cached is not None:
            ttl = CACHE_SECONDS if cached[1] else MISSING_SECONDS
            if time.monotonic() - cached[0] < ttl:
                return cached[1]
        await self.ready()
        async with self.db.read() as unit:
            rows = await slack_oauth.installations_for(unit, self.client_id, scope, team_id)
        ranked = sorted(
            (row for row in rows if row.data.get("bot_token")),
            key=lambda row: _preference(row, scope, team_id),
        )  # a stable sort: newest first within a rank
        tokens = list(
            dict.fromkeys(self.seal.open(row.data["bot_token"], "bot_token") for row in ranked)
        )
        self._tokens[key] = (time.monotonic(), tokens)
        return tokens

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
        if found is None and enterprise_id and team_id:
            # A workspace of an org that installed org-wide, asked about without the payload's
            # `is_enterprise_install` (not every payload kind carries it).
            found = await self._find(enterprise_id, None, user_id)
        self._cache[key] = (time.monotonic(), found)
        return found

    async def _find(
        self, enterprise_id: str | None, team_id: str | None, user_id: str | None
    ) -> Installation | None:
        await self.ready()
        async with self.db.read() as unit:
            data = await slack_oauth.latest_installation(
                unit, self.client_id, enterprise_id or "", team_id or "", user_id or ""
            )
        return None if data is None else Installation(**self._opened(data))

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        self._cache.clear()
        self._tokens.clear()
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


def _preference(row: SlackInstallation, scope: str, team_id: str) -> int:
    if team_id and row.team_id == team_id and not row.is_enterprise_install:
        return 0  # the workspace's own install
    if row.is_enterprise_install and row.enterprise_id == scope:
        return 1  # the org-wide install
    if row.team_id == scope:
        return 2  # a workspace outside Grid
    return 3  # another workspace's install inside the org


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.timestamp() if isinstance(value, datetime) else value
        for key, value in data.items()
    }
