"""A small test platform whose sender POSTs to a `RecordingChat` (used by real subprocesses)."""

from __future__ import annotations

import aiohttp

from bot.host import Delivery, PersonInfo, TemporaryFailure
from bot.messages import Message, ToPerson


class HttpPlatform:
    def __init__(self, base_url: str, name: str = "console") -> None:
        self.name = name
        self.base_url = base_url
        self._session: aiohttp.ClientSession | None = None

    def directory(self, workspace_external_id: str) -> HttpPlatform:
        return self

    def sender(self, workspace_external_id: str) -> HttpPlatform:
        return self

    async def person(self, user_id: str) -> PersonInfo | None:
        return PersonInfo(user_id=user_id, display_name=user_id, timezone="UTC")

    async def channel_members(self, channel_id: str) -> list[str]:
        return []

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._session

    async def send(self, message: Message, *, key: str, replace_ref: str | None = None) -> Delivery:
        user = message.audience.user_id if isinstance(message.audience, ToPerson) else ""
        try:
            async with self._client().post(
                f"{self.base_url}/send", json={"key": key, "user": user}
            ) as response:
                if response.status != 200:
                    raise TemporaryFailure(f"HTTP {response.status}")
                return Delivery(ref=(await response.json())["ref"])
        except aiohttp.ClientError as error:
            raise TemporaryFailure(str(error)) from error

    async def find_delivered(self, key: str, **_where: object) -> Delivery | None:
        async with self._client().get(f"{self.base_url}/delivered", params={"key": key}) as answer:
            return Delivery(ref=key) if (await answer.json())["delivered"] else None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
