"""The App Home tab through the real Slack adapter: opening it publishes that person's own home,
their actions publish it again, and a pulse answered from it takes the one anonymous path."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from slack_sdk.models.views import View

from storage.models import PulseRound
from tests.e2e.test_pulse_attacks import SLACK_PEOPLE, attack_while_open, operator_log
from tests.harness.fakes.slack_api import TEAM, block_text, published_homes
from tests.harness.helpers import count, sealed_answers
from tests.harness.slack import SlackHarness

pytestmark = pytest.mark.asyncio
__all__ = ["operator_log"]  # the fixture, shared with the anonymity attacks


async def _open_home(slack: SlackHarness, user: str) -> dict[str, Any]:
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}
    assert (await slack.event(event)).status == 200
    await slack.settle()
    return published_homes(slack.fake)[user]


def _valid_home(view: dict[str, Any]) -> str:
    """The view passes slack_sdk's own checks for a Home tab (≤ 100 blocks, text limits)."""
    View(**view).validate_json()
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    return block_text(view["blocks"])


async def test_each_person_sees_their_own_numbers(slack: SlackHarness) -> None:
    await slack.command("<@UBOB|bob> <@UCAROL|carol> for untangling the refund flow #easy")
    await slack.settle()
    # Opening the tab publishes it fresh, with the kudos just given.
    alice = _valid_home(await _open_home(slack, "UALICE"))
    assert "*Kudos given*\n2 this week · 2 this month" in alice
    assert "3 of 5" in alice  # left today

    bob = _valid_home(await _open_home(slack, "UBOB"))
    assert "*Kudos received*\n1 this week · 1 this month" in bob
    assert "*Kudos given*\n0 this week · 0 this month" in bob
    assert "5 of 5" in bob
    assert "for untangling the refund flow" in bob and "from <@UALICE>" in bob
    assert "(midnight, America/New_York)" in bob  # his own time zone
    # Alice's home still shows hers: each view is published for one user id.
    alice_again = _valid_home(await _open_home(slack, "UALICE"))
    assert "*Kudos received*\n0 this week · 0 this month" in alice_again
    assert "Pulses you run" not in alice_again and "Your teams" not in alice_again

    admin = _valid_home(await _open_home(slack, "UADMIN"))
    assert "Pulses you run (admin)" in admin


async def test_kudos_given_outside_the_home_publish_no_home(slack: SlackHarness) -> None:
    """A typed kudos or a reaction happens outside the Home tab, and Slack sends
    app_home_opened on every visit: publishing then would be work nobody sees."""
    await slack.command("<@UBOB|bob> <@UCAROL|carol> for untangling the refund flow #easy")
    await slack.settle()
    ts = "1699999999.000100"
    slack.fake.history[("CGENERAL", ts)] = {"ts": ts, "user": "UALICE", "text": "Fixed it #easy"}
    reaction = {
        "type": "reaction_added",
        "user": "UBOB",
        "reaction": "clap",
        "item_user": "UALICE",
        "item": {"type": "message", "channel": "CGENERAL", "ts": ts},
        "event_ts": "1700000000.000200",
    }
    assert (await slack.event(reaction)).status == 200
    await slack.settle()
    assert len(slack.fake.to("chat.postMessage")) >= 2  # both kudos were celebrated
    assert slack.fake.to("views.publish") == []

    # Each recipient's next visit shows their own "received", not the giver's numbers.
    for user in ("UBOB", "UCAROL"):
        text = _valid_home(await _open_home(slack, user))
        assert "*Kudos received*\n1 this week · 1 this month" in text, text
        assert "for untangling the refund flow" in text and "from <@UALICE>" in text
    alice = _valid_home(await _open_home(slack, "UALICE"))
    assert "*Kudos received*\n1 this week · 1 this month" in alice
    assert "Fixed it #easy" in alice and "from <@UBOB>" in alice
    published = [call.args["user_id"] for call in slack.fake.to("views.publish")]
    assert published == ["UBOB", "UCAROL", "UALICE"]


async def test_the_messages_tab_publishes_nothing(slack: SlackHarness) -> None:
    event = {"type": "app_home_opened", "user": "UBOB", "channel": "DUBOB", "tab": "messages"}
    assert (await slack.event(event)).status == 200
    await slack.settle()
    assert slack.fake.to("views.publish") == []


def _home_press(
    slack: SlackHarness, user: str, view: dict[str, Any], label: str, number: int
) -> dict[str, Any]:
    """block_actions for a button of a published home view (no channel, no response_url)."""
    button = next(
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["text"]["text"] == label
    )
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A1",
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home", "state": {"values": {}}},
        "trigger_id": f"trigger-home-{user}-{number}",
        "actions": [{**button, "action_ts": f"1700000200.{number:06d}"}],
    }


def _modal_submission(user: str, modal: dict[str, Any], answer: tuple[int, int, str]) -> dict:
    easy, value, comment = answer
    inputs = {b["block_id"]: b for b in modal["blocks"] if b["type"] == "input"}

    def rating(name: str, score: int) -> dict[str, Any]:
        element = inputs[name]["element"]
        chosen = next(o for o in element["options"] if o["value"] == str(score))
        return {element["action_id"]: {"type": element["type"], "selected_option": chosen}}

    text_id = inputs["comment"]["element"]["action_id"]
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A1",
        "trigger_id": f"trigger-submit-{user}",
        "view": {
            **modal,
            "id": f"VM{user}",
            "team_id": TEAM,
            "hash": "h1",
            "state": {
                "values": {
                    "easy": rating("easy", easy),
                    "value": rating("value", value),
                    "comment": {text_id: {"type": "plain_text_input", "value": comment}},
                }
            },
        },
    }


async def test_answering_a_pulse_from_the_home_is_anonymous(
    slack: SlackHarness, database_url: str, operator_log: io.StringIO
) -> None:
    slack.fake.channels["CENG"] = list(SLACK_PEOPLE)
    await slack.command('now "the pipeline" to <#CENG|eng>', user="UADMIN", command="/pulse")
    await slack.settle()
    homes = {user: await _open_home(slack, user) for user in SLACK_PEOPLE}
    for home in homes.values():
        assert "Pulse 1: did *the pipeline* make things EASY" in _valid_home(home)
    outsider = _valid_home(await _open_home(slack, "UALICE"))  # not asked
    assert "Nothing to answer right now." in outsider
    admin = _valid_home(await _open_home(slack, "UADMIN"))
    assert "pulse 1" in admin and "fewer than 5 answers so far" in admin
    assert "0 of 5" not in admin

    async def answer_everyone() -> None:
        for number, (user, answer) in enumerate(SLACK_PEOPLE.items(), start=1):
            press = _home_press(slack, user, homes[user], "Answer anonymously", number)
            assert (await slack.interaction(press)).status == 200
            await slack.adapter.work.drain()
            opened = slack.fake.to("views.open")[-1]
            assert opened.args["trigger_id"] == press["trigger_id"]
            modal = opened.args["view"]
            modal = json.loads(modal) if isinstance(modal, str) else modal
            assert modal["type"] == "modal"
            response = await slack.interaction(_modal_submission(user, modal, answer))
            assert response.status == 200
            await slack.adapter.work.drain()

    await attack_while_open(slack.app, database_url, operator_log, answer_everyone, SLACK_PEOPLE)
    assert await sealed_answers(slack.app, 1) == len(SLACK_PEOPLE)
    # Each home was published again after the answer, computed without writing who answered:
    # the pulse is no longer waiting for that person.
    for user in SLACK_PEOPLE:
        assert "Nothing to answer right now." in _valid_home(published_homes(slack.fake)[user])
    assert (await count(slack.app.db, PulseRound)) == 1
