"""The form contract in Slack: an inline form DM'd through the outbox, answered with one click."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.messages import (
    Choice,
    ChoiceInput,
    Form,
    Message,
    RatingInput,
    Reply,
    Section,
    Text,
    TextInput,
    ToPerson,
)
from bot.people.actor import Caller
from bot.runtime import outbox
from tests.harness.fakes.slack_api import TEAM, block_text, blocks_of
from tests.harness.slack import SlackHarness

pytestmark = pytest.mark.asyncio


def _question() -> Message:
    form = Form(
        form_id="test-pulse",
        title="Did the new expense tool make things EASY and add VALUE?",
        submit_label="Send",
        context={"round": "42"},
        inputs=[
            RatingInput(name="easy", label="EASY", low_label="hard", high_label="very easy"),
            RatingInput(name="value", label="VALUE", selected=3),
            ChoiceInput(name="area", label="Area", choices=[Choice(value="fin", label="Finance")]),
            TextInput(name="comment", label="Anything else?", optional=True, multiline=True),
        ],
    )
    return Message(
        audience=ToPerson(user_id="UBOB"),
        text="A quick question <for you>",
        blocks=[Section(spans=[Text(text="Two taps, please & thanks")]), form],
    )


async def test_an_inline_form_is_delivered_and_one_click_submits_it_once(
    slack: SlackHarness,
) -> None:
    received: list[tuple[str, dict[str, object], dict[str, str], str | None]] = []

    async def on_submit(
        caller: Caller,
        values: Mapping[str, object],
        context: Mapping[str, str],
        dedupe_key: str | None,
    ) -> Reply:
        received.append((caller.person.external_id, dict(values), dict(context), dedupe_key))
        return Reply.private("Thanks — your answer is in.")

    slack.app.core.register_form("test-pulse", on_submit)
    workspace = await slack.app.core.people.workspace("slack", TEAM)
    assert workspace.id is not None
    async with slack.app.db.write() as session:
        await outbox.enqueue(
            session,
            workspace_id=workspace.id,
            platform="slack",
            key="test-pulse:42:UBOB",
            message=_question(),
            now=datetime(2026, 11, 16, 10, tzinfo=UTC),
        )
    await slack.settle()

    dm = slack.fake.to("chat.postMessage")
    assert len(dm) == 1 and dm[0].args["channel"] == "UBOB"
    assert dm[0].args["text"] == "A quick question &lt;for you&gt;"
    blocks = blocks_of(dm[0])
    assert "Two taps, please &amp; thanks" in block_text(blocks)
    inputs = {b["block_id"]: b for b in blocks if b["type"] == "input"}
    assert set(inputs) == {"easy", "value", "area", "comment"}
    easy = inputs["easy"]["element"]
    assert easy["type"] == "radio_buttons" and len(easy["options"]) == 5
    assert easy["options"][0]["text"]["text"] == "1 — hard"
    assert inputs["value"]["element"]["initial_option"]["value"] == "3"
    assert inputs["comment"]["optional"] is True
    submit = next(b for b in blocks if b["type"] == "actions")["elements"][0]

    click: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM},
        "user": {"id": "UBOB", "username": "bob", "team_id": TEAM},
        "container": {"type": "message", "message_ts": "1.5", "channel_id": "DUBOB"},
        "channel": {"id": "DUBOB"},
        "response_url": slack.fake.response_url("pulse"),
        "state": {
            "values": {
                "easy": {
                    "rating_input": {"type": "radio_buttons", "selected_option": {"value": "4"}}
                },
                "value": {
                    "rating_input": {"type": "radio_buttons", "selected_option": {"value": "5"}}
                },
                "area": {
                    "choice_input": {"type": "radio_buttons", "selected_option": {"value": "fin"}}
                },
                "comment": {"text_input": {"type": "plain_text_input", "value": "Faster <!here>"}},
            }
        },
        "actions": [{**submit, "block_id": "submit", "action_ts": "1700000009.000001"}],
    }
    for _ in range(2):
        assert (await slack.interaction(click)).status == 200
    await slack.settle()

    assert received == [
        (
            "UBOB",
            {"easy": 4, "value": 5, "area": "fin", "comment": "Faster <!here>"},
            {"round": "42"},
            "slack:action:UBOB:1700000009.000001",
        )
    ]
    answers = [r for r in slack.fake.responses if r["name"] == "pulse"]
    assert len(answers) == 1 and answers[0]["response_type"] == "ephemeral"
    assert "Thanks — your answer is in." in block_text(answers[0]["blocks"])
