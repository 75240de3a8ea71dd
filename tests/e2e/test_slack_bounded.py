"""Work per command is bounded: a kudos naming hundreds of people, or a reason mentioning
hundreds, is refused before a single directory look-up or person row; a reacted-to message
full of mentions looks up only a few of them."""

from __future__ import annotations

import pytest

from storage.models import Person
from tests.harness.fakes.slack_api import block_text, crowd
from tests.harness.helpers import count, stored_kudos
from tests.harness.slack import SlackHarness, reaction_event

pytestmark = pytest.mark.asyncio

MESSAGE_TS = "1699999999.000100"


def _crowd(slack: SlackHarness, size: int) -> list[str]:
    """`size` more people with short ids, so hundreds fit in one command."""
    people = {
        f"U{n}": {**person, "id": f"U{n}"} for n, person in enumerate(crowd(size).values())
    }
    slack.fake.users |= people
    return list(people)


def _looked_up(slack: SlackHarness) -> set[str]:
    """People the bot asked Slack about, apart from the giver."""
    return {call.args.get("user") for call in slack.fake.to("users.info")} - {"UALICE"}


def _mentions(ids: list[str]) -> str:
    return " ".join(f"<@{user_id}>" for user_id in ids)


async def _refusal(slack: SlackHarness) -> str:
    await slack.settle()
    answers = slack.private_answers()
    assert len(answers) == 1
    return block_text(answers[-1]["blocks"])


async def test_a_kudos_naming_hundreds_is_refused_before_any_look_up(
    slack: SlackHarness,
) -> None:
    await slack.command(f"{_mentions(_crowd(slack, 440))} for the launch #easy")

    assert "at most 25 people" in await _refusal(slack)
    assert _looked_up(slack) == set()
    assert await count(slack.app.db, Person) == 1  # the giver
    assert await stored_kudos(slack.app.db) == (0, 0, 0)


async def test_more_people_than_the_allowance_left_is_refused_before_any_look_up(
    slack: SlackHarness,
) -> None:
    names = ["UBOB", "UCAROL", "UDAN", "UERIN", "UFRANK", "UGINA"]  # 6; the allowance is 5

    await slack.command(f"{_mentions(names)} for the careful launch review #easy")

    assert "You have 5 kudos left today, but this would give 6" in await _refusal(slack)
    assert _looked_up(slack) == set()
    assert await count(slack.app.db, Person) == 1


async def test_a_reason_mentioning_hundreds_is_refused_before_any_look_up(
    slack: SlackHarness,
) -> None:
    named = _mentions(_crowd(slack, 430))
    await slack.command(f"<@UBOB> for helping {named} ship it #easy")

    assert "mentions 430 people; it can mention at most 10" in await _refusal(slack)
    assert _looked_up(slack) == set()
    assert await count(slack.app.db, Person) == 1


async def test_a_too_long_reason_is_refused_before_any_look_up(slack: SlackHarness) -> None:
    await slack.command("<@UBOB> for " + "a very careful review " * 60 + "#easy")

    assert "the limit is 1,000" in await _refusal(slack)
    assert _looked_up(slack) == set()


async def test_a_reacted_message_full_of_mentions_looks_up_only_a_few(
    slack: SlackHarness,
) -> None:
    people = _crowd(slack, 430)
    slack.fake.history[("CGENERAL", MESSAGE_TS)] = {
        "ts": MESSAGE_TS,
        "user": "UALICE",
        "text": f"Thanks {_mentions(people)} for the launch",
    }

    await slack.event(reaction_event(ts=MESSAGE_TS))
    await slack.settle()

    assert await stored_kudos(slack.app.db) == (1, 1, 2)
    assert len(_looked_up(slack) - {"UBOB"}) <= 10
    assert await count(slack.app.db, Person) <= 12
