"""Hostile traffic at /api/messages with an app id configured: every token that the Bot
Framework did not sign for this bot gets 401, every bad body 400/415, each logged once at
DEBUG and with nothing stored; real tokens (signed by a key set served locally) get in, and a
key set that cannot be fetched is our fault, a 500 — not a 401."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
import pytest

from bot.app import Application
from bot.ops import logsetup
from bot.ops.config import Config, TeamsSettings
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import InboxItem, Person, ProcessedEvent, TeamsConversationRef, Workspace
from tests.harness.fakes.bot_connector import FakeConnector, start_connector
from tests.harness.fakes.bot_framework_keys import KID, FakeBotFrameworkKeys, new_key
from tests.harness.helpers import count, stored_kudos
from tests.harness.teams import BOT, TeamsChat, serve

pytestmark = pytest.mark.asyncio

APP_ID = "11111111-2222-3333-4444-555555555555"


@dataclass
class Secured:
    chat: TeamsChat
    keys: FakeBotFrameworkKeys
    db: Database

    @property
    def service_url(self) -> str:
        return self.chat.connector.url

    def token(self, **options: Any) -> str:
        return self.keys.token(APP_ID, self.service_url, **options)

    def install(self) -> dict[str, Any]:
        activity = self.chat.activity("alice", kind="conversationUpdate")
        activity["membersAdded"] = [BOT]
        return activity

    async def post_raw(self, body: bytes, content_type: str, token: str) -> int:
        headers = {"Content-Type": content_type, "Authorization": f"Bearer {token}"}
        async with self.chat.http.post(self.chat.url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    async def nothing_stored(self) -> None:
        assert self.chat.connector.posted == [] and self.chat.connector.created == []
        assert await stored_kudos(self.db) == (0, 0, 0)
        for model in (Workspace, Person, TeamsConversationRef, ProcessedEvent, InboxItem):
            assert await count(self.db, model) == 0, model.__name__


@pytest.fixture
async def secured(config: Config, db: Database, clock: ManualClock) -> AsyncIterator[Secured]:
    keys = await FakeBotFrameworkKeys().start()
    teams = TeamsSettings(
        app_id=APP_ID, app_password="secret", openid_metadata_url=keys.metadata_url
    )
    app = Application(config.model_copy(update={"teams": teams}), clock=clock, db=db)
    connector = FakeConnector()
    connector_runner = await start_connector(connector)
    platform = app.load_adapter("teams")
    runner, url = await serve(app.web)
    async with aiohttp.ClientSession() as http:
        yield Secured(TeamsChat(app, connector, platform, http, url), keys, db)
    await runner.cleanup()
    await connector_runner.cleanup()
    await keys.close()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return jwt.utils.base64url_encode(json.dumps(data).encode()).decode()

    return f"{part(header)}.{part(claims)}."


def _claims(secured: Secured) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": "https://api.botframework.com", "aud": APP_ID, "exp": now + 600}


FORGERIES: dict[str, Callable[[Secured], str]] = {
    "garbage": lambda s: "garbage",
    "three dots of garbage": lambda s: "a.b.c",
    "alg none": lambda s: _unsigned({"alg": "none", "kid": KID, "typ": "JWT"}, _claims(s)),
    "HS256": lambda s: jwt.encode(_claims(s), "a-guessable-shared-secret-of-32-bytes!", algorithm="HS256", headers={"kid": KID}),
    "unknown key": lambda s: s.token(key=new_key(), kid="not-published"),
    "known kid, other key": lambda s: s.token(key=new_key()),
    "expired": lambda s: s.token(exp=int(time.time()) - 3600),
    "not yet valid": lambda s: s.token(nbf=int(time.time()) + 3600),
    "no exp": lambda s: s.token(drop=("exp",)),
    "other audience": lambda s: s.token(aud="another-bot"),
    "other issuer": lambda s: s.token(iss="https://attacker.example"),
    "other service url": lambda s: s.token(serviceurl="https://attacker.example/"),
}


@pytest.mark.parametrize("forge", FORGERIES.values(), ids=FORGERIES.keys())
async def test_every_forged_token_is_refused_with_401(
    secured: Secured, forge: Callable[[Secured], str]
) -> None:
    status = await secured.chat.post(
        secured.install(), {"Authorization": f"Bearer {forge(secured)}"}
    )

    assert status == 401
    await secured.nothing_stored()


async def test_a_token_without_bearer_is_refused_with_401(secured: Secured) -> None:
    assert await secured.chat.post(secured.install(), {"Authorization": secured.token()}) == 401
    assert await secured.chat.post(secured.install(), {"Authorization": "Basic eDp5"}) == 401
    await secured.nothing_stored()


async def test_a_token_the_bot_framework_signed_gets_in(secured: Secured) -> None:
    status = await secured.chat.post(
        secured.install(), {"Authorization": f"Bearer {secured.token()}"}
    )

    assert status in (200, 201)
    assert await count(secured.db, TeamsConversationRef) == 1
    assert secured.keys.fetches == 1


BODIES = {
    "bad JSON": (b'{"type": "message", ', "application/json", 400),
    "JSON array": (b'[{"type": "message"}]', "application/json", 400),
    "JSON string": (b'"message"', "application/json", 400),
    "no type": (b'{"text": "hi"}', "application/json", 400),
    "not UTF-8": (b'{"type": "\xff"}', "application/json", 400),
    "bad timestamp": (b'{"type": "message", "timestamp": "soon"}', "application/json", 400),
    "form body": (b"type=message", "application/x-www-form-urlencoded", 415),
}


@pytest.mark.parametrize(("body", "content_type", "status"), BODIES.values(), ids=BODIES.keys())
async def test_a_bad_body_with_a_real_token_is_refused(
    secured: Secured, body: bytes, content_type: str, status: int
) -> None:
    assert await secured.post_raw(body, content_type, secured.token()) == status
    await secured.nothing_stored()


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    chatty = {name: logging.getLogger(name).level for name in logsetup.CHATTY}
    stream = io.StringIO()
    logsetup.configure(level="DEBUG", log_format="json", stream=stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in chatty.items():
        logging.getLogger(name).setLevel(level)


async def test_each_rejection_is_logged_once_at_debug_without_the_token(
    secured: Secured, debug_log: io.StringIO
) -> None:
    forged = [forge(secured) for forge in FORGERIES.values()]
    for token in forged:
        assert await secured.chat.post(secured.install(), {"Authorization": f"Bearer {token}"})
    for body, content_type, _ in BODIES.values():
        await secured.post_raw(body, content_type, secured.token())

    lines = [json.loads(line) for line in debug_log.getvalue().splitlines()]
    rejections = [line for line in lines if line["message"].startswith("teams request rejected")]
    assert len(rejections) == len(forged) + len(BODIES)
    assert {line["level"] for line in rejections} == {"DEBUG"}
    assert [line for line in lines if line["level"] in ("ERROR", "CRITICAL")] == []
    log = debug_log.getvalue()
    assert not any(token in log for token in forged if len(token) > 20)
    assert "exception" not in log


async def test_a_key_set_that_cannot_be_fetched_is_a_fault_not_a_401(secured: Secured) -> None:
    token = secured.token()
    await secured.keys.close()  # the Bot Framework's key endpoint is unreachable

    status = await secured.chat.post(secured.install(), {"Authorization": f"Bearer {token}"})

    assert status == 500
    await secured.nothing_stored()
