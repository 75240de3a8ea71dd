"""The personal home card through the real Teams adapter: sent on install and on `home`, kept
per viewer by Universal Actions' refresh, and a pulse answered from it stays anonymous."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.teams.cards import HOME_REFRESH_VERB, size_of
from adapters.teams.handler import UPDATED_CARD
from bot.ops.config import Config
from tests.conftest import make_config
from tests.e2e import attacker
from tests.harness.fakes.bot_connector import Posted
from tests.harness.helpers import sealed_answers
from tests.harness.teams import TeamsChat, personal_conversation, uid

pytestmark = pytest.mark.asyncio


@pytest.fixture
def config() -> Config:
    return make_config(admins=["29:alice"])


async def _execute(
    teams: TeamsChat, sender: str, card_post: Posted, action: dict[str, Any], **inputs: str
) -> dict[str, Any]:
    """An `adaptiveCard/action` invoke for `action` of the card, as `sender` presses it (or as
    Teams sends it on its own, for a refresh)."""
    activity = teams.activity(sender, kind="invoke")
    activity["conversation"]["id"] = card_post.conversation_id
    activity["replyToId"] = card_post.id
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {
            "type": "Action.Execute",
            "id": "",
            "verb": action["verb"],
            "data": {**action.get("data", {}), **inputs},
        },
        "trigger": "automatic" if action["verb"] == HOME_REFRESH_VERB else "manual",
    }
    async with teams.http.post(teams.url, json=activity) as response:
        body = await response.json()
    assert response.status == 200 and body["statusCode"] == 200, body
    return body


def _texts(card: dict[str, Any]) -> str:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "TextBlock":
                found.append(str(node.get("text", "")))
            if node.get("type") == "FactSet":
                found.extend(f"{f['title']}: {f['value']}" for f in node["facts"])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card.get("body", []))
    return "\n".join(found)


def _button(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(
        action
        for element in card["body"]
        if element.get("type") == "ActionSet"
        for action in element["actions"]
        if action["title"] == title
    )


def _home_cards(posts: list[Posted]) -> list[Posted]:
    return [post for post in posts if post.card and "refresh" in post.card]


async def test_install_and_home_send_a_card_that_refreshes_for_each_viewer(
    teams: TeamsChat,
) -> None:
    await teams.install_personal("alice")
    await teams.install_personal("alice")  # announced twice: one home card
    [welcome] = _home_cards(teams.dms_to("alice", homes=True))
    assert welcome.card is not None
    refresh = welcome.card["refresh"]
    assert refresh["userIds"] == [uid("alice")]
    assert refresh["action"]["type"] == "Action.Execute"
    assert refresh["action"]["verb"] == HOME_REFRESH_VERB
    assert float(welcome.card["version"]) >= 1.4  # Universal Actions
    assert "Kudos given: 0 this week · 0 this month" in _texts(welcome.card)

    await teams.say(
        "alice", "kudos <at>Bob</at> for pairing on the migration #easy", mentions=("bob",)
    )
    # Alice's card refreshes to her own numbers now.
    mine = await _execute(teams, "alice", welcome, refresh["action"])
    assert mine["type"] == UPDATED_CARD
    assert "Kudos given: 1 this week · 1 this month" in _texts(mine["value"])
    assert "Left to give today: 4 of 5" in _texts(mine["value"])
    assert mine["value"]["refresh"]["userIds"] == [uid("alice")]

    # The same refresh, invoked for Bob, shows Bob's home — never Alice's numbers.
    his = await _execute(teams, "bob", welcome, refresh["action"])
    text = _texts(his["value"])
    assert "Kudos received: 1 this week · 1 this month" in text
    assert "Kudos given: 0 this week · 0 this month" in text
    assert "for pairing on the migration" in text
    assert his["value"]["refresh"]["userIds"] == [uid("bob")]

    [typed] = _home_cards(await teams.say("bob", "home"))
    assert typed.conversation_id == personal_conversation("bob")
    assert "Kudos received: 1 this week · 1 this month" in _texts(typed.card or {})
    assert size_of(typed.card or {}) <= 28 * 1024


async def test_a_pulse_answered_from_the_home_card_writes_only_the_sealed_ballot(
    teams: TeamsChat,
) -> None:
    await teams.install_personal("alice")
    await teams.say("alice", 'pulse now "the on-call rota" to <at>Bob</at>', mentions=("bob",))
    [home] = _home_cards(await teams.say("bob", "home"))
    assert home.card is not None
    assert "the on-call rota" in _texts(home.card)
    answer = _button(home.card, "Answer anonymously")
    before = await attacker.rows(teams.app.db)

    opened = await _execute(teams, "bob", home, answer)
    question = opened["value"]
    assert opened["type"] == UPDATED_CARD and "EASY" in _texts(question)
    [submit] = question["actions"]
    question_post = Posted(conversation_id=home.conversation_id, activity={}, id=home.id)
    done = await _execute(
        teams, "bob", question_post, submit, easy="2", value="4", comment="slower nights"
    )

    assert "saved anonymously" in _texts(done["value"])
    assert "slower nights" not in str(done) and "EASY" not in _texts(done["value"])
    after = await attacker.rows(teams.app.db)
    assert set(attacker.changed_tables(before, after)) == {"pulse_ballots"}
    assert await sealed_answers(teams.app, 1) == 1
    # The home, refreshed, no longer asks Bob.
    again = await _execute(teams, "bob", home, home.card["refresh"]["action"])
    assert "Nothing to answer right now." in _texts(again["value"])
