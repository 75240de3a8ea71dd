"""A kudos from someone the bot has never met, to someone it has never met (typed, or a
reaction to their message), asks the directory about both at the same time (Slack's
users.info, Teams' member look-up): one platform round trip of waiting (50–150 ms on real
Slack), not two. Several people named are still looked up only after the allowance allows
them, and a giver the directory turns away leaves no trace of the person they named."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.app import Application
from storage.models import Person
from tests.harness.fakes.slack_api import block_text
from tests.harness.helpers import count, stored_kudos
from tests.harness.slack import SlackHarness, reaction_event
from tests.harness.teams import TeamsChat

pytestmark = pytest.mark.asyncio

MESSAGE_TS = "1699999999.000100"
SLOW_SLACK = 0.2  # seconds per call (or Teams member look-up): long enough that sequential calls never overlap


def _asked_about(slack: SlackHarness) -> list[str]:
    return [call.args.get("user") for call in slack.fake.to("users.info")]


async def test_a_new_giver_and_the_new_person_they_name_are_looked_up_together(
    slack: SlackHarness,
) -> None:
    slack.fake.delay = SLOW_SLACK

    await slack.command("<@UBOB|bob> for the careful release review #easy")
    await slack.settle()

    assert sorted(_asked_about(slack)) == ["UALICE", "UBOB"]
    assert slack.fake.most_at_once["users.info"] == 2
    assert (await stored_kudos(slack.app.db))[:2] == (1, 1)
    confirmation = block_text(slack.private_answers()[-1]["blocks"])
    assert "Kudos sent to <@UBOB>" in confirmation


async def test_a_returning_giver_asks_about_the_person_named_only(slack: SlackHarness) -> None:
    await slack.command("<@UBOB|bob> for the careful release review #easy")
    await slack.settle()
    slack.fake.calls.clear()
    slack.fake.delay = SLOW_SLACK

    await slack.command("<@UCAROL|carol> for the quiet refactor #value")
    await slack.settle()

    assert _asked_about(slack) == ["UCAROL"]
    assert slack.fake.most_at_once["users.info"] == 1
    assert (await stored_kudos(slack.app.db))[:2] == (2, 2)


async def test_several_people_named_wait_for_the_allowance_before_any_look_up(
    slack: SlackHarness,
) -> None:
    slack.fake.delay = SLOW_SLACK
    names = ["UBOB", "UCAROL", "UDAN", "UERIN", "UFRANK", "UGINA"]  # 6; the allowance is 5

    await slack.command(" ".join(f"<@{name}>" for name in names) + " for the launch #easy")
    await slack.settle()

    assert _asked_about(slack) == ["UALICE"]
    assert await count(slack.app.db, Person) == 1
    assert "You have 5 kudos left today" in block_text(slack.private_answers()[-1]["blocks"])


async def test_a_guest_the_directory_turns_away_stores_nobody_they_named(
    slack: SlackHarness,
) -> None:
    # Slack Connect: the payload did not say, the directory does (is_stranger).
    slack.fake.users["UGUEST"] = {**slack.fake.users["UBOB"], "id": "UGUEST", "is_stranger": True}
    slack.fake.delay = SLOW_SLACK

    await slack.command("<@UBOB|bob> for the careful release review #easy", user="UGUEST")
    await slack.settle()

    assert "guest from another organisation" in block_text(slack.private_answers()[-1]["blocks"])
    assert await stored_kudos(slack.app.db) == (0, 0, 0)
    async with slack.app.db.read() as unit:
        stored = set((await unit.session.exec(select(Person.external_id))).all())
    assert stored == {"UGUEST"}  # the guest's own row says they are from elsewhere


async def test_a_kudos_reaction_asks_about_the_reactor_and_the_author_together(
    slack: SlackHarness,
) -> None:
    slack.fake.history[("CGENERAL", MESSAGE_TS)] = {
        "ts": MESSAGE_TS,
        "user": "UALICE",
        "text": "Fixed the flaky deploy #easy",
    }
    slack.fake.delay = SLOW_SLACK

    assert (await slack.event(reaction_event(ts=MESSAGE_TS))).status == 200
    await slack.settle()

    assert sorted(_asked_about(slack)) == ["UALICE", "UBOB"]
    assert slack.fake.most_at_once["users.info"] == 2
    assert (await stored_kudos(slack.app.db))[:2] == (1, 1)
    assert [call.args["user"] for call in slack.fake.to("chat.postEphemeral")] == ["UBOB"]


async def test_on_teams_the_giver_and_the_person_named_are_looked_up_together(
    teams: TeamsChat, app: Application
) -> None:
    teams.connector.member_delay = SLOW_SLACK

    await teams.say(
        "alice",
        "kudos <at>Gina</at> for the onboarding guide",
        where="channel",
        mentions=("gina",),
    )

    assert sorted(teams.connector.member_look_ups) == ["29:alice", "29:gina"]
    assert teams.connector.most_members_at_once == 2
    [confirmation] = teams.dms_to("alice")
    assert "✅ Kudos sent to <at>Gina</at>" in confirmation.shown
    assert (await stored_kudos(app.db))[:2] == (1, 1)
