"""A platform that delivers every message as an HTTP POST to a recording server on the
loopback (RECORDING_URL), so a test can count what a separate bot process really sent."""

from __future__ import annotations

import os

import aiohttp

from bot.app import Application
from bot.messages import Message
from bot.ports import Delivery, PersonInfo, TemporaryFailure

NAME = "recording"


class RecordingPlatform:
    name = NAME

    def __init__(self, url: str) -> None:
        self.url = url
        self._http: aiohttp.ClientSession | None = None

    def directory(self, workspace_external_id: str) -> RecordingPlatform:
        return self

    def sender(self, workspace_external_id: str) -> RecordingPlatform:
        return self

    async def person(self, user_id: str) -> PersonInfo | None:
        return PersonInfo(user_id=user_id, display_name=user_id)

    async def channel_members(self, channel_id: str) -> list[str]:
        return []

    async def send(self, message: Message, *, key: str, replace_ref: str | None = None) -> Delivery:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
        try:
            async with self._http.post(self.url, json={"key": key, "text": message.text}) as answer:
                if answer.status != 200:
                    raise TemporaryFailure(f"recorder answered {answer.status}")
                return Delivery(ref=(await answer.json())["ref"])
        except aiohttp.ClientError as error:
            raise TemporaryFailure(str(error)) from error

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def install(app: Application) -> RecordingPlatform:
    platform = RecordingPlatform(os.environ["RECORDING_URL"])
    app.add_platform(platform)
    app.on_shutdown(platform.close)
    return platform
