"""Web API clients per workspace: the single-workspace token, or the installed bot's token."""

from __future__ import annotations

import aiohttp
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.pauses import SendingPauses
from bot.host import PermanentFailure
from bot.ops.config import SlackSettings


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
        # Workspaces Slack asked us to leave alone for a while (`app_rate_limited`).
        self.pauses = SendingPauses()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self._session

    def for_token(self, token: str | None) -> AsyncWebClient:
        key = token or ""
        if key not in self._by_token:
            self._by_token[key] = AsyncWebClient(
                token=token, base_url=self.api_url, session=self.session
            )
        return self._by_token[key]

    async def for_workspace(self, team_id: str) -> AsyncWebClient:
        return self.for_token(await self.token(team_id))

    async def token(self, team_id: str) -> str:
        if self.installations is None and self.settings.bot_token:
            return self.settings.bot_token
        if self.installations is not None:
            bot = await self.installations.async_find_bot(enterprise_id=None, team_id=team_id)
            if bot is None:  # an org-wide install is stored under its enterprise id
                bot = await self.installations.async_find_bot(
                    enterprise_id=team_id, team_id=None, is_enterprise_install=True
                )
            if bot is not None and bot.bot_token:
                return bot.bot_token
        if self.settings.bot_token:  # OAuth mode, but this workspace was set up by hand
            return self.settings.bot_token
        raise PermanentFailure(f"slack: no installation for workspace {team_id}")

    def forget(self, token: str) -> None:
        self._by_token.pop(token, None)

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
