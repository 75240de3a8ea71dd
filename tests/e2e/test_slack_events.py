"""Slack events end to end: reactions give and revoke kudos; retries and forgeries do nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from storage.models import Recognition
from tests.harness.fakes.slack_api import block_text, blocks_of
from tests.harness.helpers import count, stored_kudos
from tests.harness.slack import SlackHarness, reaction_event

pytestmark = pytest.mark.asyncio

MESSAGE_TS = "1699999999.000100"


def _reaction(kind: str, user: str = "UBOB", reaction: str = "clap") -> dict[str, Any]:
    return reaction_event(kind, user=user, reaction=reaction, ts=MESSAGE_TS)


@pytest.fixture
def message(slack: SlackHarness) -> None:
    slack.fake.history[("CGENERAL", MESSAGE_TS)] = {
        "ts": MESSAGE_TS,
        "user": "UALICE",
        "text": "Fixed the flaky deploy &amp; silenced the noisy alerts #easy",
    }


async def test_the_kudos_reaction_gives_kudos_and_removing_it_revokes(
    slack: SlackHarness, message: None
) -> None:
    assert (await slack.event(_reaction("reaction_added"))).status == 200
    await slack.settle()

    async with slack.app.db.read() as unit:
        session = unit.session
        given = (await session.exec(select(Recognition))).one()
    assert given.source == "reaction" and given.source_ref == f"CGENERAL:{MESSAGE_TS}"
    assert given.reason == "Fixed the flaky deploy & silenced the noisy alerts #easy"
    posts = {call.args["channel"]: call for call in slack.fake.to("chat.postMessage")}
    assert set(posts) == {"CGENERAL", "UALICE"}
    assert "🎉 <@UBOB> gave kudos to <@UALICE>" in block_text(blocks_of(posts["CGENERAL"]))
    ephemeral = slack.fake.to("chat.postEphemeral")
    assert [call.args["user"] for call in ephemeral] == ["UBOB"]

    assert (await slack.event(_reaction("reaction_removed"))).status == 200
    await slack.settle()
    assert await count(slack.app.db, Recognition, Recognition.revoked_at.is_not(None)) == 1
    edits = slack.fake.to("chat.update")
    assert len(edits) == 1 and edits[0].args["channel"] == "CGENERAL"
    assert "withdrawn by <@UBOB>" in block_text(blocks_of(edits[0]))


async def test_other_reactions_do_nothing(slack: SlackHarness, message: None) -> None:
    assert (await slack.event(_reaction("reaction_added", reaction="tada"))).status == 200
    await slack.settle()
    assert await stored_kudos(slack.app.db) == (0, 0, 0)
    assert [call.method for call in slack.fake.calls if call.method != "auth.test"] == []


async def test_a_reaction_still_counts_when_the_message_cannot_be_read(slack: SlackHarness) -> None:
    slack.fake.fail("conversations.history", "not_in_channel")
    await slack.event(_reaction("reaction_added"))
    await slack.settle()
    assert await count(slack.app.db, Recognition, Recognition.reason == "(no text)") == 1


async def test_a_retried_event_gives_one_kudos(slack: SlackHarness, message: None) -> None:
    first = await slack.event(_reaction("reaction_added"), event_id="Ev0RETRY")
    retry = await slack.event(
        _reaction("reaction_added"),
        event_id="Ev0RETRY",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert first.status == retry.status == 200
    await slack.settle()

    assert await stored_kudos(slack.app.db) == (1, 1, 2)
    assert len(slack.fake.to("chat.postMessage")) == 2


@pytest.mark.parametrize(
    ("options", "why"),
    [({"secret": "not-the-secret"}, "forged signature"), ({"age": 301}, "301 seconds old")],
)
async def test_unsigned_or_stale_requests_are_refused(
    slack: SlackHarness, message: None, options: dict[str, Any], why: str
) -> None:
    command = await slack.command("<@UBOB|bob> for the careful review #easy", **options)
    event = await slack.event(_reaction("reaction_added"), **options)
    payload = {"type": "block_actions", "user": {"id": "UALICE"}, "actions": []}
    action = await slack.post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **options
    )

    assert (command.status, event.status, action.status) == (401, 401, 401), why
    await slack.settle()
    assert await stored_kudos(slack.app.db) == (0, 0, 0)
    assert slack.fake.responses == [] and slack.fake.to("chat.postMessage") == []


async def test_a_signature_near_the_end_of_the_window_is_accepted(slack: SlackHarness) -> None:
    # 295 s, not 299: the signed timestamp is whole seconds and a busy machine may take a
    # second to verify, which must not push a valid request over Slack's 300 s limit.
    response = await slack.command("help", age=295)
    assert response.status == 200


async def test_url_verification_answers_the_challenge(slack: SlackHarness) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc123", "token": "legacy"})
    response = await slack.post(body, "application/json")
    assert response.status == 200
    assert (await response.json())["challenge"] == "abc123"
