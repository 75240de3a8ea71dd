"""Pulses through Teams: asked by an admin's message, delivered as Adaptive Cards to each
person's 1:1 chat (created when needed), answered with the card's submit button."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Application
from bot.ops.config import Config, PulseSettings
from bot.runtime.clock import ManualClock
from storage.models import AuditEntry, PulseDelivery, PulseSchedule
from tests.conftest import make_config
from tests.harness.fakes.bot_connector import Posted
from tests.harness.helpers import count, pulse_round, sealed_answers
from tests.harness.teams import (
    CHANNEL,
    PEOPLE,
    TeamsChat,
    at,
    personal_conversation,
    uid,
)

SUBJECT = "the new expense tool"
CLOSED = "Thanks — but this pulse has closed, so answers are no longer taken."


@pytest.fixture
def config() -> Config:
    return make_config(admins=["29:alice"], pulses=PulseSettings(min_responses=3, min_comment_responses=3))


def asks(post: Posted) -> bool:
    """A pulse question: a card with a submit button (answers and results have none)."""
    return post.card is not None and bool(post.card.get("actions"))


def question_of(teams: TeamsChat, name: str) -> Posted:
    [question] = [post for post in teams.dms_to(name) if asks(post)]
    return question


def submit_action(card: dict[str, Any]) -> dict[str, Any]:
    [action] = card["actions"]
    assert action["type"] == "Action.Execute"  # Universal Actions (issue 15)
    return action


async def answer(
    teams: TeamsChat,
    name: str,
    easy: int,
    value: int,
    comment: str = "",
    *,
    activity_id: str | None = None,
    times: int = 1,
    deliver: bool = True,
) -> list[Posted]:
    """Press the card's submit button as Teams does: a message activity from the chat the card
    is in, replying to it, whose `value` is the button's data with the inputs merged in."""
    question = question_of(teams, name)
    assert question.card is not None
    data = dict(submit_action(question.card)["data"])
    value_ = {**data, "easy": str(easy), "value": str(value), "comment": comment}
    activity = teams.activity(name, value=value_, activity_id=activity_id)
    activity["conversation"]["id"] = question.conversation_id
    activity["replyToId"] = question.id
    before = len(teams.connector.posted)
    for _ in range(times):
        assert await teams.post(activity) in (200, 201)
    if deliver:  # what the outbox holds, too (not while the database is down)
        await teams.app.outbox.drain()
    return teams.connector.posted[before:]


def mentions_of(*names: str) -> str:
    return " ".join(at(name) for name in names)


async def test_pulse_now_asks_each_person_with_a_card_and_answers_count_once(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    await teams.install_personal("alice")
    asked = ("bob", "carol", "dan", "erin")

    shown = await teams.say(
        "alice", f'pulse now "{SUBJECT}" to {mentions_of(*asked)}', mentions=asked
    )

    confirmation = [
        post for post in shown if post.conversation_id == personal_conversation("alice")
    ]
    assert "📊 Pulse 1 “the new expense tool” is on its way to 4 people" in confirmation[0].shown
    # None of them ever talked to the bot: each gets a 1:1 chat created with the tenant id.
    for name in asked:
        chat = teams.connector.conversation_of(uid(name))
        assert chat is not None
        [created] = [c for c in teams.connector.created if c["members"][0]["id"] == uid(name)]
        assert created["tenantID"] == "tenant-1"  # botbuilder's spelling of the field
        assert created["channelData"]["tenant"]["id"] == "tenant-1"
    assert teams.dms_to("alice") == confirmation  # the admin is not asked

    question = question_of(teams, "bob")
    card = question.card
    assert card is not None
    assert card["type"] == "AdaptiveCard" and card["version"] in ("1.4", "1.5")
    assert len(json.dumps(card).encode()) <= 28 * 1024
    assert "Did **the new expense tool** make things EASY and add VALUE?" in question.shown
    assert question.activity["summary"].startswith("📊 A quick pulse: Did the new expense tool")
    fields = {element["id"]: element for element in card["body"] if "id" in element}
    assert set(fields) == {"easy", "value", "comment"}
    for rating in (fields["easy"], fields["value"]):
        assert rating["type"] == "Input.ChoiceSet" and rating["style"] == "expanded"
        assert rating["isRequired"] is True
        assert [choice["value"] for choice in rating["choices"]] == ["1", "2", "3", "4", "5"]
    assert fields["easy"]["choices"][0]["title"] == "1 — much harder"
    assert fields["value"]["choices"][4]["title"] == "5 — a lot of value"
    comment = fields["comment"]
    assert comment["type"] == "Input.Text" and comment["isMultiline"] is True
    assert comment["isRequired"] is False and comment["maxLength"] == 1000
    action = submit_action(card)
    assert action["title"] == "Send answer"
    assert action["data"]["kp_form"] == "pulse" and action["data"]["kp_context"] == {"round": "1"}

    # Bob answers, then changes his mind: the second answer replaces the first.
    [thanks] = await answer(teams, "bob", 2, 2, "first thoughts")
    assert thanks.conversation_id == question.conversation_id  # shown to Bob only
    assert "✅ Thanks! Your answer to pulse 1 is saved anonymously." in thanks.shown
    # The scores are never echoed: Teams keeps this reply in Bob's chat (eDiscovery).
    assert "EASY" not in thanks.shown and "first thoughts" not in thanks.shown
    [thanks] = await answer(teams, "bob", 5, 4, "saves me an hour")
    assert "saved anonymously" in thanks.shown and "VALUE" not in thanks.shown
    # Carol's click arrives twice (a double click, or Teams redelivering): counted once. No
    # dedupe row is kept for a pulse press (it would say who answered when): the second copy
    # saves the same answer again, and Carol is thanked twice.
    shown = await answer(teams, "carol", 5, 5, activity_id="click-carol", times=2)
    assert len(shown) == 2 and all("saved anonymously" in post.shown for post in shown)
    await answer(teams, "dan", 4, 2, "fast but pointless")
    assert await sealed_answers(app, 1) == 3

    # The round closes; the owner gets the results in her 1:1 chat.
    clock.advance(timedelta(hours=48, seconds=5))
    before = len(teams.dms_to("alice"))
    await app.scheduler.tick()
    await app.outbox.drain()
    [results] = teams.dms_to("alice")[before:]
    assert results.conversation_id == personal_conversation("alice")
    assert "Pulse 1 results — the new expense tool" in results.shown
    assert "Responses: 3 of 4 answered (75%)" in results.shown
    assert "EASY: 4.7 / 5 · 100% favourable" in results.shown
    assert "VALUE: 3.7 / 5 · 67% favourable" in results.shown
    assert "saves me an hour" in results.shown and "fast but pointless" in results.shown
    assert "first thoughts" not in results.shown

    # Erin answers too late: told privately, nothing stored.
    [late] = await answer(teams, "erin", 3, 3)
    assert late.conversation_id == teams.connector.conversation_of(uid("erin"))
    assert CLOSED in late.shown
    assert (await pulse_round(app.db, 1)).responded == 3


async def test_pulse_now_to_a_channel_asks_its_members_from_the_paged_roster(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_in_team()
    general = {"id": CHANNEL, "name": "General"}
    activity = teams.activity(
        "alice",
        where="channel",
        text=f'<at>Kudos</at> pulse now "{SUBJECT}" to <at>General</at>',
        mentions=("bot",),
    )
    activity["entities"].append(
        {"type": "mention", "text": "<at>General</at>", "mentioned": general}
    )

    assert await teams.post(activity) in (200, 201)
    await app.outbox.drain()

    # Seven members, three to a page: every one of them is asked, Alice included.
    for name in PEOPLE:
        question = question_of(teams, name)
        assert question.card is not None and "the new expense tool" in question.shown
    assert await count(app.db, PulseDelivery) == len(PEOPLE)
    # The confirmation went to Alice privately; nothing was posted in the channel.
    assert teams.in_channel() == []
    assert any("is on its way to 7 people" in post.shown for post in teams.dms_to("alice"))


async def test_pulse_now_to_a_team_asks_its_members(teams: TeamsChat, app: Application) -> None:
    await teams.install_personal("alice")
    await teams.say(
        "alice",
        f"team create finance lead {at('bob')} members {mentions_of('carol', 'dan')}",
        mentions=("bob", "carol", "dan"),
    )

    await teams.say("alice", f'pulse now "{SUBJECT}" to team:finance')

    asked = [name for name in PEOPLE if any(asks(post) for post in teams.dms_to(name))]
    assert asked == ["carol", "dan"]
    assert await count(app.db, PulseDelivery) == 2


async def test_a_non_admin_cannot_schedule_a_pulse(teams: TeamsChat, app: Application) -> None:
    await teams.install_in_team()

    shown = await teams.say(
        "bob",
        f'pulse schedule "{SUBJECT}" to {at("carol")} every mon at 10:00',
        where="channel",
        mentions=("carol",),
    )

    [refusal] = shown
    assert refusal.conversation_id == teams.connector.conversation_of(uid("bob"))
    assert "Only admins can" in refusal.shown
    assert teams.in_channel() == []
    assert await count(app.db, PulseSchedule) == 0
    assert await count(app.db, AuditEntry) == 0
