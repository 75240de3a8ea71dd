"""Kudos in Slack, end to end: signed requests in, Web API calls out, rows stored."""

from __future__ import annotations

import pytest

from storage.models import Recognition, RecognitionTag
from tests.fakes.slack_api import block_text, blocks_of
from tests.helpers import count, stored_kudos
from tests.slack_harness import SlackHarness, fake_slack, slack  # noqa: F401

pytestmark = pytest.mark.asyncio


async def test_give_kudos_acks_at_once_then_celebrates_and_dms(slack: SlackHarness) -> None:
    response = await slack.command("<@UBOB|bob> <@UCAROL|carol> for untangling the refund flow #easy #value")
    assert response.status == 200
    assert await response.text() == ""
    await slack.settle()

    answers = slack.private_answers()
    assert len(answers) == 1
    assert "Kudos sent to <@UBOB> and <@UCAROL>. You have 3 of 5 left today." in block_text(answers[0]["blocks"])

    posts = slack.fake.to("chat.postMessage")
    by_channel = {call.args["channel"]: call for call in posts}
    assert set(by_channel) == {"CGENERAL", "UBOB", "UCAROL"}
    celebration = block_text(blocks_of(by_channel["CGENERAL"]))
    assert "🎉 <@UALICE> gave kudos to <@UBOB> and <@UCAROL>" in celebration
    assert ">for untangling the refund flow" in celebration
    assert "⚡ Made it EASY  ·  💎 Added VALUE" in celebration
    assert "You received kudos from <@UALICE>" in block_text(blocks_of(by_channel["UBOB"]))
    assert all(call.token == "xoxb-test-token" for call in posts)
    assert await stored_kudos(slack.app.db) == (1, 2, 3)
    assert await count(slack.app.db, RecognitionTag) == 2
