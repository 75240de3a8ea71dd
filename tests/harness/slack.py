"""Drives the real bot through signed HTTP requests to /slack/events, like Slack does."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from adapters.slack import SlackAdapter
from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from tests.harness.fakes.slack_api import TEAM, FakeSlack

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"


def sign(body: str, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    base = f"v0:{timestamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def slash_command(
    fake: FakeSlack,
    text: str,
    *,
    trigger_id: str,
    response_name: str = "hook",
    user: str = "UALICE",
    channel: str = "CGENERAL",
    command: str = "/kudos",
    team: str = TEAM,
) -> dict[str, str]:
    """The form fields Slack posts for a slash command."""
    return {
        "token": "legacy",
        "team_id": team,
        "team_domain": "acme",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": fake.users.get(user, {}).get("name", user),
        "command": command,
        "text": text,
        "api_app_id": "A1",
        "response_url": fake.response_url(response_name),
        "trigger_id": trigger_id,
    }


def reaction_event(
    kind: str = "reaction_added",
    *,
    user: str = "UBOB",
    author: str = "UALICE",
    ts: str = "1699999999.000100",
    reaction: str = "clap",
    channel: str = "CGENERAL",
) -> dict[str, Any]:
    """`user` adds (or removes) `reaction` on `author`'s message `ts` in `channel`."""
    return {
        "type": kind,
        "user": user,
        "reaction": reaction,
        "item_user": author,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": "1700000000.000200",
    }


class SlackHarness:
    def __init__(
        self, app: Application, adapter: SlackAdapter, fake: FakeSlack, client: TestClient
    ):
        self.app = app
        self.adapter = adapter
        self.fake = fake
        self.client = client
        self._ids = itertools.count(1)

    # -- requests --------------------------------------------------------------------------

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        age: int = 0,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
    ) -> ClientResponse:
        signed = sign(body, int(time.time()) - age, secret)
        return await self.client.post(
            "/slack/events",
            data=body.encode(),
            headers={"Content-Type": content_type, **signed, **(headers or {})},
        )

    async def command(
        self,
        text: str,
        user: str = "UALICE",
        channel: str = "CGENERAL",
        command: str = "/kudos",
        team: str = TEAM,
        trigger_id: str | None = None,
        **options: Any,
    ) -> ClientResponse:
        number = next(self._ids)
        form = slash_command(
            self.fake,
            text,
            trigger_id=trigger_id or f"trigger-{number}",
            response_name=f"cmd{number}",
            user=user,
            channel=channel,
            command=command,
            team=team,
        )
        return await self.post(urlencode(form), "application/x-www-form-urlencoded", **options)

    async def event(
        self, event: dict[str, Any], event_id: str | None = None, team: str = TEAM, **options: Any
    ) -> ClientResponse:
        body = {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._ids):06d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}],
        }
        return await self.post(json.dumps(body), "application/json", **options)

    async def interaction(self, payload: dict[str, Any], **options: Any) -> ClientResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **options)

    async def settle(self) -> None:
        """Let the work after the ack finish (the inbox, then background work), then deliver
        what the outbox holds."""
        await self.app.inbox.drain()
        await self.adapter.work.drain()
        await self.app.outbox.drain()
        await self.adapter.work.drain()

    # -- what Slack saw ---------------------------------------------------------------------

    def private_answers(self) -> list[dict[str, Any]]:
        """Everything answered privately: response_url posts (ephemeral) and postEphemeral."""
        answers = [r for r in self.fake.responses if r.get("response_type") == "ephemeral"]
        answers += [call.args for call in self.fake.to("chat.postEphemeral")]
        return answers


def slack_config(config: Config, fake: FakeSlack, **slack: Any) -> Config:
    settings = config.slack.model_copy(
        update={"bot_token": BOT_TOKEN, "signing_secret": SECRET, "api_url": fake.api_url, **slack}
    )
    # Pacing is the outbox's business (tested there); here it would only make tests slow.
    outbox = config.outbox.model_copy(update={"slack_per_second": 1000.0})
    return config.model_copy(update={"slack": settings, "outbox": outbox})


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.close()


@asynccontextmanager
async def running(
    config: Config, db: Database, clock: ManualClock, fake: FakeSlack, role: str = "all"
) -> AsyncIterator[SlackHarness]:
    """The real Application with the Slack adapter, served on 127.0.0.1 (an OS-chosen port)."""
    app = Application(config, clock=clock, db=db, role=role)
    adapter: SlackAdapter = app.load_adapter("slack", freeze_gc=False)
    client = TestClient(TestServer(app.web, host="127.0.0.1"))
    await client.start_server()
    try:
        yield SlackHarness(app, adapter, fake, client)
    finally:
        await client.close()
        await adapter.close()
        app.pictures.close()


@pytest.fixture
async def slack(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> AsyncIterator[SlackHarness]:
    async with running(slack_config(config, fake_slack), db, clock, fake_slack) as harness:
        yield harness
