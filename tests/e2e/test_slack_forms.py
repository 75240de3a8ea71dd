"""The /kudos modal and inline forms in Slack: open, validate in the ack, submit once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from storage.models import Recognition
from tests.harness.fakes.slack_api import TEAM, block_text
from tests.harness.helpers import count, stored_kudos
from tests.harness.slack import SlackHarness

pytestmark = pytest.mark.asyncio


def _state(recipients: list[str], tags: list[str], reason: str | None) -> dict[str, Any]:
    return {
        "recipients": {
            "people_input": {"type": "multi_users_select", "selected_users": recipients}
        },
        "tags": {
            "choice_input": {
                "type": "checkboxes",
                "selected_options": [{"value": tag} for tag in tags],
            }
        },
        "reason": {"text_input": {"type": "plain_text_input", "value": reason}},
    }


async def _open_modal(slack: SlackHarness) -> dict[str, Any]:
    response = await slack.command("")
    assert response.status == 200
    await slack.settle()
    opened = slack.fake.to("views.open")
    assert len(opened) == 1 and opened[0].args["trigger_id"] == "trigger-1"
    view = opened[0].args["view"]
    return json.loads(view) if isinstance(view, str) else view


def _submission(
    view: dict[str, Any], state: dict[str, Any], view_hash: str = "h1"
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": "UALICE", "username": "alice", "team_id": TEAM},
        "api_app_id": "A1",
        "trigger_id": "trigger-submit",
        "view": {
            **view,
            "id": "V1",
            "team_id": TEAM,
            "hash": view_hash,
            "state": {"values": state},
        },
    }


async def test_kudos_alone_opens_the_modal(slack: SlackHarness) -> None:
    view = await _open_modal(slack)

    assert view["type"] == "modal" and view["title"]["text"] == "Give kudos"
    inputs = {
        block["block_id"]: block["element"]["type"]
        for block in view["blocks"]
        if block["type"] == "input"
    }
    assert inputs == {
        "recipients": "multi_users_select",
        "tags": "checkboxes",
        "reason": "plain_text_input",
    }
    assert json.loads(view["private_metadata"])["ch"] == "CGENERAL"
    assert slack.private_answers() == []  # the modal is the answer


async def test_a_modal_without_a_reason_shows_the_error_in_the_modal(slack: SlackHarness) -> None:
    view = await _open_modal(slack)

    response = await slack.interaction(_submission(view, _state(["UBOB"], ["easy"], None)))

    assert response.status == 200
    body = await response.json()
    assert body["response_action"] == "errors"
    assert body["errors"]["reason"].startswith("Add a reason — what did they do?")
    await slack.settle()
    assert await stored_kudos(slack.app.db) == (0, 0, 0)


async def test_a_valid_modal_submission_gives_kudos_once(slack: SlackHarness) -> None:
    view = await _open_modal(slack)
    payload = _submission(view, _state(["UBOB", "UCAROL"], ["easy"], "for the calm incident call"))

    first = await slack.interaction(payload)
    again = await slack.interaction(payload)  # Slack delivering the same submission twice

    assert first.status == again.status == 200
    assert await first.text() == ""  # an empty ack closes the modal
    await slack.settle()
    assert await stored_kudos(slack.app.db) == (1, 2, 3)
    confirmation = slack.fake.to("chat.postEphemeral")
    assert len(confirmation) == 1 and confirmation[0].args["channel"] == "CGENERAL"
    assert "Kudos sent to <@UBOB> and <@UCAROL>" in block_text(
        json.loads(confirmation[0].args["blocks"])
        if isinstance(confirmation[0].args["blocks"], str)
        else confirmation[0].args["blocks"]
    )


async def test_an_expired_trigger_shows_the_form_inline_and_a_double_click_counts_once(
    slack: SlackHarness,
) -> None:
    slack.fake.fail("views.open", "expired_trigger")
    await slack.command("")
    await slack.settle()
    inline = slack.private_answers()
    assert len(inline) == 1
    blocks = inline[0]["blocks"]
    submit = next(
        element
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "kp_form_submit"
    )
    assert {b["block_id"] for b in blocks if b["type"] == "input"} == {
        "recipients",
        "tags",
        "reason",
    }

    click = {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": "UALICE", "username": "alice", "team_id": TEAM},
        "api_app_id": "A1",
        "container": {
            "type": "message",
            "message_ts": "1.1",
            "channel_id": "CGENERAL",
            "is_ephemeral": True,
        },
        "channel": {"id": "CGENERAL", "name": "general"},
        "trigger_id": "trigger-click",
        "response_url": slack.fake.response_url("form"),
        "state": {"values": _state(["UBOB"], ["value"], "for reviewing the runbook twice")},
        "actions": [{**submit, "block_id": "submit", "action_ts": "1700000001.000001"}],
    }
    for _ in range(2):  # a double click delivered twice
        assert (await slack.interaction(click)).status == 200
    await slack.settle()

    assert await count(slack.app.db, Recognition) == 1
    confirmations = [r for r in slack.fake.responses if r["name"] == "form"]
    assert len(confirmations) == 1 and "Kudos sent to <@UBOB>" in block_text(
        confirmations[0]["blocks"]
    )
