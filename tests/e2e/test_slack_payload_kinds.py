"""Every payload kind Slack signs gets 200 and a documented reaction (issue 15).

Payloads are shaped as Slack's reference documents them (Events API envelope, interaction
`payload`, `app_rate_limited` sent on its own) and posted, signed, to /slack/events.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest

from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import InboxItem, OutboxItem, Recognition
from tests.harness.fakes.slack_api import TEAM, FakeSlack, block_text, blocks_of
from tests.harness.helpers import count, sealed_answers, stored_kudos
from tests.harness.slack import BOT_TOKEN, SlackHarness, running, slack_config

pytestmark = pytest.mark.asyncio


def _web_api_calls(slack: SlackHarness) -> list[str]:
    return [call.method for call in slack.fake.calls if call.method not in ("auth.test",)]


# -- app_rate_limited ------------------------------------------------------------------------


async def test_app_rate_limited_is_acknowledged_logged_and_pauses_sending(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    notice = {
        "token": "legacy",
        "type": "app_rate_limited",
        "team_id": TEAM,
        "minute_rate_limited": int(time.time()) // 60 * 60,
        "api_app_id": "A1",
    }
    with caplog.at_level(logging.WARNING):
        response = await slack.post(json.dumps(notice), "application/json")
        assert response.status == 200
        await slack.settle()
    assert any("app_rate_limited" in record.getMessage() for record in caplog.records)

    # A kudos given now is stored, but its celebration and DM wait instead of being sent.
    await slack.command("<@UBOB|bob> for the careful review #easy")
    await slack.settle()
    assert await count(slack.app.db, Recognition) == 1
    assert slack.fake.to("chat.postMessage") == []
    assert await count(slack.app.db, OutboxItem, OutboxItem.status == "pending") == 2


async def test_a_forged_rate_limit_notice_is_refused(slack: SlackHarness) -> None:
    notice = {"type": "app_rate_limited", "team_id": TEAM, "minute_rate_limited": 0}
    response = await slack.post(json.dumps(notice), "application/json", secret="forged")
    assert response.status == 401


# -- interactions the bot did not ask for ----------------------------------------------------


def _user() -> dict[str, Any]:
    return {"id": "UALICE", "username": "alice", "name": "alice", "team_id": TEAM}


def _foreign_view() -> dict[str, Any]:
    return {
        "id": "V0FOREIGN",
        "team_id": TEAM,
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "someone_elses_modal",
        "state": {"values": {}},
        "hash": "1700000000.abcdef",
        "title": {"type": "plain_text", "text": "Other"},
        "app_id": "A1",
        "bot_id": "B1",
    }


GLOBAL_SHORTCUT = {
    "type": "shortcut",
    "token": "legacy",
    "action_ts": "1700000000.371594",
    "team": {"id": TEAM, "domain": "acme"},
    "user": _user(),
    "callback_id": "shortcut_create_task",
    "trigger_id": "944799105734.773906753841.38b5894552bdd4a780554ee59d1f3638",
}

MESSAGE_SHORTCUT = {
    "type": "message_action",
    "token": "legacy",
    "action_ts": "1700000000.371595",
    "team": {"id": TEAM, "domain": "acme"},
    "user": {"id": "UALICE", "name": "alice"},
    "channel": {"id": "CGENERAL", "name": "general"},
    "callback_id": "thank_for_this",
    "trigger_id": "944799105734.773906753841.38b5894552bdd4a780554ee59d1f3639",
    "message_ts": "1699999999.000100",
    "message": {"type": "message", "user": "UBOB", "ts": "1699999999.000100", "text": "Fixed"},
    "response_url": "https://hooks.slack.com/app/T0TEST/1/unused",
}

FOREIGN_SUBMISSION = {
    "type": "view_submission",
    "team": {"id": TEAM, "domain": "acme"},
    "user": _user(),
    "api_app_id": "A1",
    "token": "legacy",
    "trigger_id": "12466734323.1395872398.ad217bc7da1b0c4e9e7a5b2d9dd2b4a1",
    "view": _foreign_view(),
    "response_urls": [],
}

FOREIGN_VIEW_ACTION = {
    "type": "block_actions",
    "team": {"id": TEAM, "domain": "acme"},
    "user": _user(),
    "api_app_id": "A1",
    "token": "legacy",
    "container": {"type": "view", "view_id": "V0FOREIGN"},
    "trigger_id": "12466734323.1395872398.ad217bc7da1b0c4e9e7a5b2d9dd2b4a2",
    "view": _foreign_view(),
    "actions": [
        {
            "type": "button",
            "block_id": "b1",
            "action_id": "approve",
            "text": {"type": "plain_text", "text": "Approve"},
            "value": "42",
            "action_ts": "1700000000.000300",
        }
    ],
}

BLOCK_SUGGESTION = {
    "type": "block_suggestion",
    "user": _user(),
    "container": {"type": "view", "view_id": "V0FOREIGN"},
    "api_app_id": "A1",
    "token": "legacy",
    "action_id": "pick_project",
    "block_id": "project",
    "value": "kud",
    "team": {"id": TEAM, "domain": "acme"},
    "view": _foreign_view(),
}

# A legacy dialog's submission: no listener matches it, and it still gets 200.
DIALOG_SUBMISSION = {
    "type": "dialog_submission",
    "token": "legacy",
    "action_ts": "1700000000.000400",
    "team": {"id": TEAM, "domain": "acme"},
    "user": {"id": "UALICE", "name": "alice"},
    "channel": {"id": "CGENERAL", "name": "general"},
    "submission": {"name": "x"},
    "callback_id": "old_dialog",
    "response_url": "https://hooks.slack.com/app/T0TEST/1/unused",
    "state": "",
}

# A (retired) workflow step's edit: no listener of Bolt's matches this kind at all.
WORKFLOW_STEP_EDIT = {
    "type": "workflow_step_edit",
    "token": "legacy",
    "action_ts": "1700000000.000500",
    "team": {"id": TEAM, "domain": "acme"},
    "user": _user(),
    "callback_id": "copy_review",
    "trigger_id": "12466734323.1395872398.ad217bc7da1b0c4e9e7a5b2d9dd2b4a3",
    "workflow_step": {"workflow_id": "123", "step_id": "456", "inputs": {}, "outputs": []},
}


@pytest.mark.parametrize(
    "payload",
    [
        GLOBAL_SHORTCUT,
        MESSAGE_SHORTCUT,
        FOREIGN_SUBMISSION,
        FOREIGN_VIEW_ACTION,
        DIALOG_SUBMISSION,
        WORKFLOW_STEP_EDIT,
    ],
    ids=lambda payload: payload["type"],
)
async def test_interactions_the_bot_did_not_ask_for_get_200_and_do_nothing(
    slack: SlackHarness, payload: dict[str, Any]
) -> None:
    response = await slack.interaction(payload)
    assert response.status == 200
    assert await response.text() == ""  # a view submission's empty ack closes the modal
    await slack.settle()
    assert _web_api_calls(slack) == [] and slack.fake.responses == []
    assert await stored_kudos(slack.app.db) == (0, 0, 0)


async def test_block_suggestion_is_answered_with_an_options_list(slack: SlackHarness) -> None:
    response = await slack.interaction(BLOCK_SUGGESTION)
    assert response.status == 200
    assert await response.json() == {"options": []}


# -- events the bot does not act on ----------------------------------------------------------


UNLISTED_EVENTS = [
    {
        "type": "team_join",
        "user": {"id": "UNEW", "team_id": TEAM, "name": "newbie", "is_bot": False},
        "event_ts": "1700000000.000500",
    },
    {
        "type": "user_change",
        "user": {"id": "UBOB", "team_id": TEAM, "name": "bob", "tz": "Europe/Berlin"},
        "cache_ts": 1700000000,
        "event_ts": "1700000000.000600",
    },
    {"type": "grid_migration_started", "enterprise_id": "E0ORG", "event_ts": "1700000000.7"},
    {"type": "grid_migration_finished", "enterprise_id": "E0ORG", "event_ts": "1700000000.8"},
    {"type": "app_home_opened", "user": "UALICE", "channel": "DALICE", "tab": "messages"},
    {"type": "member_joined_channel", "user": "UBOB", "channel": "CGENERAL", "team": TEAM},
]


@pytest.mark.parametrize("event", UNLISTED_EVENTS, ids=lambda event: event["type"])
async def test_events_the_bot_does_not_act_on_get_200(
    slack: SlackHarness, event: dict[str, Any]
) -> None:
    assert (await slack.event(event)).status == 200
    await slack.settle()
    assert _web_api_calls(slack) == []
    assert await count(slack.app.db, InboxItem) == 0


# -- direct messages -------------------------------------------------------------------------


def _dm(text: str, user: str = "UALICE", **extra: Any) -> dict[str, Any]:
    """A `message.im` event as Slack sends it for a message typed in the bot's DM."""
    event = {
        "type": "message",
        "channel": f"D{user}",
        "user": user,
        "ts": "1700000000.000700",
        "event_ts": "1700000000.000700",
        "channel_type": "im",
        **extra,
    }
    if text:
        event["text"] = text
    return event


def _dm_answers(slack: SlackHarness, user: str) -> list[str]:
    return [
        block_text(blocks_of(call)) or str(call.args.get("text"))
        for call in slack.fake.to("chat.postMessage")
        if call.args["channel"] == user
    ]


async def test_a_kudos_typed_in_the_bots_dm_is_given_and_answered_there(
    slack: SlackHarness,
) -> None:
    event = _dm("kudos <@UBOB> for the careful review #easy")
    first = await slack.event(event, event_id="Ev0DM1")
    retry = await slack.event(
        event, event_id="Ev0DM1", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "x"}
    )
    assert first.status == retry.status == 200
    await slack.settle()

    assert await stored_kudos(slack.app.db) == (1, 1, 1)
    assert any("for the careful review" in text for text in _dm_answers(slack, "UBOB"))
    assert _dm_answers(slack, "UALICE"), "the giver is answered in the DM"
    assert slack.fake.to("chat.postEphemeral") == []  # an ephemeral in a DM would vanish


async def test_help_typed_in_the_bots_dm_is_answered(slack: SlackHarness) -> None:
    await slack.event(_dm("help"))
    await slack.settle()
    assert any("/kudos" in text for text in _dm_answers(slack, "UALICE"))


@pytest.mark.parametrize(
    "event",
    [
        # The bot's own answer in the DM comes back as an event.
        _dm("Thanks!", user="UBOT", bot_id="B1", app_id="A1"),
        {
            **_dm("", subtype="message_changed", hidden=True),
            "message": {"type": "message", "user": "UALICE", "text": "kudos <@UBOB> x #easy"},
            "previous_message": {"type": "message", "user": "UALICE", "text": "kudos"},
        },
        {
            **_dm("", subtype="message_deleted", hidden=True, deleted_ts="1700000000.000700"),
            "previous_message": {"type": "message", "user": "UALICE", "text": "kudos <@UBOB>"},
        },
        # A message in a channel (message.channels is not subscribed, but could be by hand).
        {**_dm("kudos <@UBOB> for the review #easy"), "channel_type": "channel"},
    ],
    ids=["own message", "edit", "deletion", "channel message"],
)
async def test_edits_deletions_and_the_bots_own_messages_are_ignored(
    slack: SlackHarness, event: dict[str, Any]
) -> None:
    assert (await slack.event(event)).status == 200
    await slack.settle()
    assert _web_api_calls(slack) == []
    assert await count(slack.app.db, InboxItem) == 0


async def test_a_pulse_answer_typed_in_the_dm_takes_the_anonymous_path(
    slack: SlackHarness,
) -> None:
    await slack.command('now "the new expense tool" to <@UBOB|bob>', user="UADMIN", command="/pulse")
    await slack.settle()
    inbox_before = await count(slack.app.db, InboxItem)

    answer = _dm('answer 1 easy=4 value=5 "much better"', user="UBOB")
    assert (await slack.event(answer)).status == 200
    retry = await slack.event(answer, headers={"X-Slack-Retry-Num": "1"})
    assert retry.status == 200
    await slack.settle()

    assert await sealed_answers(slack.app, 1) == 1
    assert await count(slack.app.db, InboxItem) == inbox_before  # never queued with its author
    thanks = _dm_answers(slack, "UBOB")[1:]  # after the question itself
    assert len(thanks) == 1  # the retry was dropped at the door
    assert "4" not in thanks[0] and "much better" not in thanks[0]  # scores never echoed


# -- text defects ------------------------------------------------------------------------------


async def test_pulse_ratings_and_confirmation_read_naturally(slack: SlackHarness) -> None:
    await slack.command(
        'now "the new expense tool" to <@UBOB|bob> <@UCAROL|carol>', user="UADMIN", command="/pulse"
    )
    await slack.settle()

    confirmation = slack.private_answers()[-1]
    assert "(<@UBOB>, <@UCAROL>)" in block_text(confirmation["blocks"])
    question = next(c for c in slack.fake.to("chat.postMessage") if c.args["channel"] == "UBOB")
    labels = [
        option["text"]["text"]
        for block in blocks_of(question)
        if block["type"] == "input" and block["block_id"] == "easy"
        for option in block["element"]["options"]
    ]
    assert labels[0] == "1 — much harder" and labels[-1] == "5 — much easier"


# -- start-up --------------------------------------------------------------------------------


async def test_no_token_warning_at_start_with_slack_bot_token_set(
    config: Config,
    db: Database,
    clock: ManualClock,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    with caplog.at_level(logging.INFO):
        async with running(slack_config(config, fake_slack), db, clock, fake_slack) as slack:
            assert (await slack.command("help")).status == 200
    bolt_warnings = [
        record
        for record in caplog.records
        if record.name.startswith("slack_bolt") and record.levelno >= logging.WARNING
    ]
    assert bolt_warnings == []
