"""`kudos` alone answers with an Adaptive Card form; its submission goes through the same rules."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.app import Application
from storage.models import Recognition
from tests.harness.fakes.bot_connector import Posted
from tests.harness.helpers import stored_kudos
from tests.harness.teams import (
    CHANNEL,
    TeamsChat,
    personal_conversation,
)


def inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {element["id"]: element for element in card["body"] if "id" in element}


def submit_data(post: Posted) -> dict[str, Any]:
    assert post.card is not None
    [action] = post.card["actions"]
    assert action["type"] == "Action.Execute"  # Universal Actions (issue 15)
    return dict(action["data"])


async def test_kudos_alone_answers_with_a_card_form(teams: TeamsChat) -> None:
    await teams.install_personal("alice")

    [form] = await teams.say("alice", "kudos")

    assert form.conversation_id == personal_conversation("alice")
    card = form.card
    assert card is not None and card["version"] == "1.4"
    fields = inputs(card)
    assert fields["recipients"]["type"] == "Input.ChoiceSet"
    assert fields["recipients"]["choices.data"]["dataset"] == "graph.microsoft.com/users"
    assert [choice["value"] for choice in fields["tags"]["choices"]] == ["easy", "value"]
    assert fields["tags"]["isMultiSelect"] is True
    assert fields["reason"]["type"] == "Input.Text" and fields["reason"]["maxLength"] == 1000
    assert submit_data(form)["kp_form"] == "kudos"


async def test_submitting_the_form_gives_kudos(teams: TeamsChat, app: Application) -> None:
    await teams.install_personal("alice")
    [form] = await teams.say("alice", "kudos")

    # Teams' people picker answers with AAD object ids; multi-selects come comma-separated.
    value = {
        **submit_data(form),
        "recipients": "aad-bob,aad-carol",
        "tags": "easy,value",
        "reason": "for pairing on the migration",
    }
    shown = await teams.submit("alice", value)

    assert "✅ Kudos sent to <at>Bob</at> and <at>Carol</at>" in shown[0].shown
    assert "You received kudos from <at>Alice</at>" in teams.dms_to("bob")[0].shown
    assert "You received kudos from <at>Alice</at>" in teams.dms_to("carol")[0].shown
    async with app.db.read() as unit:
        session = unit.session
        recognition = (await session.exec(select(Recognition))).one()
    assert recognition.source == "form" and recognition.reason == "for pairing on the migration"


async def test_a_double_click_gives_once(teams: TeamsChat, app: Application) -> None:
    await teams.install_personal("alice")
    [form] = await teams.say("alice", "kudos")
    value = {**submit_data(form), "recipients": "aad-bob", "reason": "for the careful review"}
    activity = teams.activity("alice", value=value, activity_id="click-1")

    assert await teams.post(activity) == 201
    assert await teams.post(activity) == 201

    assert (await stored_kudos(app.db))[0] == 1


async def test_a_missing_reason_is_shown_to_the_sender_and_nothing_is_stored(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_personal("alice")
    [form] = await teams.say("alice", "kudos")

    shown = await teams.submit(
        "alice", {**submit_data(form), "recipients": "aad-bob", "reason": ""}
    )

    assert [post.conversation_id for post in shown] == [personal_conversation("alice")]
    assert "Add a reason — what did they do?" in shown[0].shown
    assert await stored_kudos(app.db) == (0, 0, 0)


async def test_a_form_asked_for_in_a_channel_arrives_privately_and_celebrates_in_the_channel(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_in_team()

    [form] = await teams.say("alice", "kudos", where="channel")
    assert form.conversation_id == teams.connector.conversation_of("29:alice")
    assert teams.in_channel() == []
    # In a channel the people to choose from are its members (not Alice herself).
    assert form.card is not None
    recipients = inputs(form.card)["recipients"]
    assert "choices.data" not in recipients
    assert [choice["value"] for choice in recipients["choices"]] == [
        "29:bob",
        "29:carol",
        "29:dan",
        "29:erin",
        "29:frank",
        "29:gina",
    ]
    assert recipients["choices"][2]["title"] == "Dan"

    # The card is submitted from Alice's 1:1 chat.
    await teams.submit(
        "alice", {**submit_data(form), "recipients": "29:dan", "reason": "for the launch plan"}
    )

    [celebration] = teams.in_channel()
    assert "<at>Alice</at> gave kudos to <at>Dan</at>" in celebration.shown
    async with app.db.read() as unit:
        session = unit.session
        recognition = (await session.exec(select(Recognition))).one()
    assert recognition.channel_id == CHANNEL
