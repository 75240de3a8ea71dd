"""Drives the real app over HTTP as Teams would: activities POSTed to /api/messages, with
serviceUrl pointing at a fake connector that records what the bot sent back."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.teams import ROUTE, TeamsPlatform
from bot.app import Application
from tests.harness.fakes.bot_connector import FakeConnector, Posted, start_connector

TENANT = "tenant-1"
BOT = {"id": "28:kudos-bot", "name": "Kudos"}
TEAM = "19:team@thread.tacv2"
CHANNEL = "19:general@thread.tacv2"
GROUP_CHAT = "19:group-chat@thread.v2"
PEOPLE = ("alice", "bob", "carol", "dan", "erin", "frank", "gina")


def uid(name: str) -> str:
    """People are `29:<name>`; a name ending in "bot" is another app (`28:`)."""
    return f"28:{name}" if name.endswith("bot") else f"29:{name}"


def personal_conversation(name: str) -> str:
    return f"a:personal-{name}"


def at(name: str) -> str:
    return f"<at>{name.title()}</at>"


@dataclass
class TeamsChat:
    app: Application
    connector: FakeConnector
    platform: TeamsPlatform
    http: aiohttp.ClientSession
    url: str
    timezone: str = "Europe/Berlin"

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)

    # -- building activities --------------------------------------------------------------

    def activity(
        self,
        sender: str,
        *,
        where: str = "personal",
        text: str | None = None,
        mentions: tuple[str, ...] = (),
        value: dict[str, Any] | None = None,
        kind: str = "message",
        activity_id: str | None = None,
    ) -> dict[str, Any]:
        activity_id = activity_id or f"msg-{next(self._ids)}"
        channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
        if where == "channel":
            conversation = {
                "id": f"{CHANNEL};messageid={activity_id}",
                "conversationType": "channel",
                "isGroup": True,
                "tenantId": TENANT,
            }
            channel_data.update(team={"id": TEAM, "name": "Support"}, channel={"id": CHANNEL})
        elif where == "group":
            conversation = {
                "id": GROUP_CHAT,
                "conversationType": "groupChat",
                "isGroup": True,
                "tenantId": TENANT,
            }
        else:
            conversation = {
                "id": personal_conversation(sender),
                "conversationType": "personal",
                "tenantId": TENANT,
            }
        entities: list[dict[str, Any]] = [
            {
                "type": "mention",
                "text": at(name) if name != "bot" else "<at>Kudos</at>",
                "mentioned": BOT if name == "bot" else {"id": uid(name), "name": name.title()},
            }
            for name in mentions
        ]
        entities.append(
            {
                "type": "clientInfo",
                "locale": "en-US",
                "country": "DE",
                "platform": "Web",
                "timezone": self.timezone,
            }
        )
        activity: dict[str, Any] = {
            "type": kind,
            "id": activity_id,
            "timestamp": "2026-11-16T10:00:00.000Z",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": uid(sender), "name": sender.title(), "aadObjectId": f"aad-{sender}"},
            "conversation": conversation,
            "recipient": BOT,
            "entities": entities,
            "channelData": channel_data,
            "locale": "en-US",
        }
        if text is not None:
            activity["text"] = text
        if value is not None:
            activity["value"] = value
        return activity

    async def post(self, activity: dict[str, Any], headers: dict[str, str] | None = None) -> int:
        async with self.http.post(self.url, json=activity, headers=headers or {}) as response:
            await response.read()
            return response.status

    # -- what a person does ---------------------------------------------------------------

    async def say(
        self,
        sender: str,
        text: str,
        *,
        where: str = "personal",
        mentions: tuple[str, ...] = (),
        deliver: bool = True,
    ) -> list[Posted]:
        """Send a message; returns everything the bot posted because of it (outbox drained)."""
        if where != "personal":
            mentions = ("bot", *mentions)
            text = f"<at>Kudos</at> {text}"
        before = len(self.connector.posted)
        status = await self.post(self.activity(sender, where=where, text=text, mentions=mentions))
        assert status in (200, 201), status
        if deliver:
            await self.app.outbox.drain()
        return self.connector.posted[before:]

    async def submit(
        self, sender: str, value: dict[str, Any], *, where: str = "personal"
    ) -> list[Posted]:
        before = len(self.connector.posted)
        status = await self.post(self.activity(sender, where=where, value=value))
        assert status in (200, 201), status
        await self.app.outbox.drain()
        return self.connector.posted[before:]

    async def install_personal(self, name: str) -> None:
        activity = self.activity(name, kind="conversationUpdate")
        activity["membersAdded"] = [BOT]
        assert await self.post(activity) in (200, 201)

    async def install_in_team(self, by: str = "alice") -> None:
        activity = self.activity(by, where="channel", kind="conversationUpdate")
        activity["conversation"]["id"] = CHANNEL
        activity["membersAdded"] = [BOT]
        assert await self.post(activity) in (200, 201)

    # -- what people see ------------------------------------------------------------------

    def dms_to(self, name: str, *, homes: bool = False) -> list[Posted]:
        """What the bot posted in `name`'s personal chat; `homes`: with the home card the bot
        sends when the app is installed there (left out unless asked for)."""
        conversations = {personal_conversation(name)}
        created = self.connector.conversation_of(uid(name))
        if created:
            conversations.add(created)
        return [
            post
            for post in self.connector.posted
            if post.conversation_id in conversations and (homes or not is_home(post))
        ]

    def in_channel(self, channel: str = CHANNEL) -> list[Posted]:
        return [
            post for post in self.connector.posted if post.conversation_id.split(";")[0] == channel
        ]


def is_home(post: Posted) -> bool:
    """A person's home card: the one card that refreshes itself for its viewer."""
    return bool(post.card and "refresh" in post.card)


async def serve(web_app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}{ROUTE}"


@pytest.fixture(name="teams")
async def teams_fixture(app: Application) -> AsyncIterator[TeamsChat]:
    connector = FakeConnector()
    for name in PEOPLE:
        connector.add_member(uid(name), name.title(), f"aad-{name}")
    connector_runner = await start_connector(connector)
    platform: TeamsPlatform = app.load_adapter("teams")
    runner, url = await serve(app.web)
    # Cards load charts from the bot's own server: what `public_url` says in production.
    assert platform.charts is not None
    platform.charts.base = url.removesuffix(ROUTE)
    async with aiohttp.ClientSession() as http:
        yield TeamsChat(app, connector, platform, http, url)
    await runner.cleanup()
    await connector_runner.cleanup()
