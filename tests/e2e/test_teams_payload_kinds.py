"""Every activity Teams sends is answered cleanly; Universal Actions; mentions by id (issue 15).

Activities are shaped as the Bot Framework / Teams documentation shows them and POSTed to
/api/messages; what the bot sends back goes to the fake connector.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.app import Application
from bot.ops.config import Config
from storage.models import ProcessedEvent, Recognition, TeamsConversationRef
from tests.conftest import make_config
from tests.harness.fakes.bot_connector import Posted
from tests.harness.helpers import count, sealed_answers, stored_kudos
from tests.harness.teams import BOT, TeamsChat, personal_conversation, uid

UPDATED_CARD = "application/vnd.microsoft.card.adaptive"


@pytest.fixture
def config() -> Config:
    return make_config(admins=["29:alice"])


def _failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# -- activity kinds the bot does not act on --------------------------------------------------


def _kinds(teams: TeamsChat) -> dict[str, dict[str, Any]]:
    update = teams.activity("alice", where="channel", kind="messageUpdate", text="edited text")
    update["channelData"]["eventType"] = "editMessage"
    delete = teams.activity("alice", where="channel", kind="messageDelete")
    delete["channelData"]["eventType"] = "softDeleteMessage"
    reaction = teams.activity("bob", where="channel", kind="messageReaction")
    reaction.update(reactionsAdded=[{"type": "like"}], replyToId="1700000000000")
    removed = teams.activity("bob", where="channel", kind="messageReaction")
    removed.update(reactionsRemoved=[{"type": "heart"}], replyToId="1700000000000")
    installed = teams.activity("alice", kind="installationUpdate")
    installed["action"] = "add"
    uninstalled = teams.activity("alice", where="channel", kind="installationUpdate")
    uninstalled["action"] = "remove"
    typing = teams.activity("alice", kind="typing")
    return {
        "messageUpdate": update,
        "messageDelete": delete,
        "messageReaction added": reaction,
        "messageReaction removed": removed,
        "installationUpdate add": installed,
        "installationUpdate remove": uninstalled,
        "typing": typing,
    }


@pytest.mark.parametrize(
    "kind",
    [
        "messageUpdate",
        "messageDelete",
        "messageReaction added",
        "messageReaction removed",
        "installationUpdate remove",
        "typing",
    ],
)
async def test_activities_the_bot_does_not_act_on_are_answered_cleanly(
    teams: TeamsChat, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        status = await teams.post(_kinds(teams)[kind])
    assert status in (200, 201)
    assert _failures(caplog) == []
    assert teams.connector.posted == []


async def test_installing_the_app_personally_lets_the_bot_reach_that_person(
    teams: TeamsChat,
) -> None:
    installed = teams.activity("dan", kind="installationUpdate")
    installed["action"] = "add"
    assert await teams.post(installed) in (200, 201)
    # Installed in his personal scope: Dan's home card arrives there, in the turn.
    [home] = [p for p in teams.connector.posted if p.card and "refresh" in p.card]
    assert home.conversation_id == personal_conversation("dan")
    await teams.say("alice", "kudos <at>Dan</at> for the review #easy", mentions=("dan",))
    # Dan's DM goes to the personal chat the installation told us about: none is created.
    assert any(p.conversation_id == personal_conversation("dan") for p in teams.connector.posted)
    assert teams.connector.conversation_of(uid("dan")) is None


# -- mentions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "entity_text"),
    [
        ("<at>Kudos &amp; Pulse</at>", None),  # the entity carries no text at all
        ("<at>Kudos &amp; Pulse</at>", "<at>Kudos & Pulse</at>"),  # text unlike the message
        ("<at>Kudos</at>", "<at>Kudos</at>"),  # the ordinary shape
    ],
    ids=["no text", "other text", "plain"],
)
async def test_the_bots_mention_is_stripped_by_its_id(
    teams: TeamsChat, written: str, entity_text: str | None
) -> None:
    await teams.install_in_team()
    activity = teams.activity(
        "alice", where="channel", text=f"{written} kudos <at>Bob</at> for the review #easy"
    )
    bot_mention: dict[str, Any] = {
        "type": "mention",
        "mentioned": {**BOT, "name": "Kudos & Pulse"},
    }
    if entity_text is not None:
        bot_mention["text"] = entity_text
    activity["entities"][:0] = [
        bot_mention,
        {"type": "mention", "text": "<at>Bob</at>", "mentioned": {"id": uid("bob"), "name": "Bob"}},
    ]
    activity["recipient"] = {**BOT, "name": "Kudos & Pulse"}
    assert await teams.post(activity) in (200, 201)
    await teams.app.outbox.drain()

    assert await count(teams.app.db, Recognition) == 1
    assert not any("don't know the command" in post.shown for post in teams.connector.posted)


# -- Universal Actions (Action.Execute) ------------------------------------------------------


async def _invoke(
    teams: TeamsChat, sender: str, card_post: Posted, inputs: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """An `adaptiveCard/action` invoke as Teams sends it for an Action.Execute press: the
    action's verb and data (inputs merged in) under `value.action`."""
    assert card_post.card is not None
    [action] = card_post.card["actions"]
    assert action["type"] == "Action.Execute"
    activity = teams.activity(sender, kind="invoke")
    activity["conversation"]["id"] = card_post.conversation_id
    activity["replyToId"] = card_post.id
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {
            "type": "Action.Execute",
            "id": "",
            "verb": action["verb"],
            "data": {**action["data"], **inputs},
        },
        "trigger": "manual",
    }
    async with teams.http.post(teams.url, json=activity) as response:
        return response.status, await response.json()


def _texts(card: dict[str, Any]) -> str:
    return " ".join(str(e.get("text", "")) for e in card["body"] if e.get("type") == "TextBlock")


async def test_a_pulse_answered_with_action_execute_replaces_the_card(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_personal("alice")
    await teams.say("alice", 'pulse now "the on-call rota" to <at>Bob</at>', mentions=("bob",))
    [question] = [p for p in teams.dms_to("bob") if p.card and p.card.get("actions")]
    posted_before = len(teams.connector.posted)

    status, body = await _invoke(
        teams, "bob", question, {"easy": "2", "value": "4", "comment": "slower nights"}
    )

    assert status == 200 and body["statusCode"] == 200
    assert body["type"] == UPDATED_CARD
    card = body["value"]
    assert "actions" not in card  # the buttons are gone
    assert "saved anonymously" in _texts(card)
    assert "slower nights" not in str(card) and "EASY" not in str(card)  # nothing repeated
    assert teams.connector.posted[posted_before:] == []  # the answer is the card, in the turn
    assert await sealed_answers(app, 1) == 1


async def test_the_kudos_form_answered_with_action_execute(teams: TeamsChat) -> None:
    await teams.install_personal("alice")
    [form] = await teams.say("alice", "kudos")

    # Missing reason: the card stays (a message answers), nothing is stored.
    status, body = await _invoke(teams, "alice", form, {"recipients": "aad-bob", "reason": ""})
    assert status == 200 and body["type"] == "application/vnd.microsoft.activity.message"
    assert await stored_kudos(teams.app.db) == (0, 0, 0)

    status, body = await _invoke(
        teams, "alice", form, {"recipients": "aad-bob", "tags": "easy", "reason": "for pairing on the migration"}
    )
    await teams.app.outbox.drain()
    assert status == 200 and body["type"] == UPDATED_CARD, body
    assert "actions" not in body["value"]
    assert await count(teams.app.db, Recognition) == 1
    assert any("for pairing on the migration" in post.shown for post in teams.dms_to("bob"))



async def test_a_pulse_answer_typed_in_the_personal_chat_takes_the_anonymous_path(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_personal("alice")
    await teams.say("alice", 'pulse now "the on-call rota" to <at>Bob</at>', mentions=("bob",))
    written_before = (
        await count(app.db, ProcessedEvent),
        await count(app.db, TeamsConversationRef),
    )

    shown = await teams.say("bob", 'answer 1 easy=2 value=4 "slower nights"')

    assert await sealed_answers(app, 1) == 1
    # No dedupe row, no stored reference: nothing written beside Bob but the sealed answer.
    assert (
        await count(app.db, ProcessedEvent),
        await count(app.db, TeamsConversationRef),
    ) == written_before
    [thanks] = shown
    assert "saved anonymously" in thanks.shown
    assert "slower nights" not in thanks.shown and "EASY" not in thanks.shown


# -- the package's privacy and terms pages ---------------------------------------------------


@pytest.mark.parametrize(("path", "title"), [("/privacy", "Privacy"), ("/terms", "Terms of use")])
async def test_the_default_privacy_and_terms_pages_are_served(
    teams: TeamsChat, path: str, title: str
) -> None:
    base = teams.url.removesuffix("/api/messages")
    async with teams.http.get(f"{base}{path}") as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        page = await response.text()
    assert f"Kudos &amp; Pulse — {title}" in page
