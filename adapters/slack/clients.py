"""Web API clients per workspace: the single-workspace token, or the installed bot's token.

A workspace is asked for by its scope (the Grid org id, else the team id: the key of the
core's workspace record) and, when known, the team the request came from, so a per-workspace
install inside an org answers with that workspace's own token."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import aiohttp
from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.pauses import SendingPauses
from bot.host import PermanentFailure
from bot.ops.config import SlackSettings


@runtime_checkable
class ScopedBots(Protocol):
    async def bot_tokens_for(self, scope: str, team_id: str = "") -> list[str]: ...


class SlackClients:
    """Hands out `AsyncWebClient`s pointed at `SLACK_API_URL`, sharing one HTTP session."""

    def __init__(
        self, settings: SlackSettings, installations: AsyncInstallationStore | None = None
    ) -> None:
        self.settings = settings
        self.installations = installations
        self.api_url = settings.api_url.rstrip("/") + "/"
        self._session: aiohttp.ClientSession | None = None
        self._by_token: dict[str, AsyncWebClient] = {}
        self._posting: dict[str, AsyncWebClient] = {}
        # Workspaces Slack asked us to leave alone for a while (`app_rate_limited`).
        self.pauses = SendingPauses()

    @property
    def _timeout(self) -> int:
        # Typed int by the SDK, which hands it to aiohttp's ClientTimeout: a float works.
        return self.settings.api_timeout_seconds  # type: ignore[return-value]

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=self.settings.api_timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    def for_token(self, token: str | None) -> AsyncWebClient:
        key = token or ""
        if key not in self._by_token:
            self._by_token[key] = AsyncWebClient(
                token=token,
                base_url=self.api_url,
                session=self.session,
                timeout=self._timeout,
            )
        return self._by_token[key]

    async def for_workspace(self, scope: str, team_id: str = "") -> AsyncWebClient:
        return self.for_token(await self.token(scope, team_id))

    def for_posting(self, token: str) -> AsyncWebClient:
        """A client for new posts. The SDK by default sends a request again when the connection
        drops — after Slack may have posted it; this one retries only failures to connect,
        which nothing can have reached, and leaves the rest to the outbox's in-doubt check."""
        if token not in self._posting:
            self._posting[token] = AsyncWebClient(
                token=token,
                base_url=self.api_url,
                session=self.session,
                timeout=self._timeout,
                retry_handlers=[
                    AsyncConnectionErrorRetryHandler(error_types=[aiohttp.ClientConnectorError])
                ],
            )
        return self._posting[token]

    async def token(self, scope: str, team_id: str = "") -> str:
        return (await self.tokens(scope, team_id))[0]

    async def tokens(self, scope: str, team_id: str = "") -> list[str]:
        """The tokens that may serve this workspace record, best first (never empty)."""
        if self.installations is None and self.settings.bot_token:
            return [self.settings.bot_token]
        if isinstance(self.installations, ScopedBots):
            found = await self.installations.bot_tokens_for(scope, team_id)
            if found:
                return found
        if self.settings.bot_token:  # OAuth mode, but this workspace was set up by hand
            return [self.settings.bot_token]
        raise PermanentFailure(f"slack: no installation for workspace {team_id or scope}")

    def forget(self, token: str) -> None:
        self._by_token.pop(token, None)
        self._posting.pop(token, None)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
