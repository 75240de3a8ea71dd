"""Quiet by default, chosen by the team, through the real Slack adapter: where celebrations are
posted, whether recipients get DMs, and a person's own switch that never mutes a pulse."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.runtime.clock import ManualClock
from tests.harness.fakes.slack_api import block_text
from tests.harness.slack import SlackHarness

pytestmark = pytest.mark.asyncio

GIVE = "<@UBOB|bob> for untangling the refund flow #easy"


def _posts(slack: SlackHarness) -> list[tuple[str, str]]:
    return [
        (str(c.args["channel"]), str(c.args.get("text"))) for c in slack.fake.to("chat.postMessage")
    ]


async def _give(slack: SlackHarness, **options: str) -> list[tuple[str, str]]:
    before = len(_posts(slack))
    await slack.command(GIVE, **options)
    await slack.settle()
    return _posts(slack)[before:]


async def _admin(slack: SlackHarness, text: str) -> str:
    await slack.command(text, user="UADMIN")
    await slack.settle()
    return block_text(slack.private_answers()[-1]["blocks"])


async def test_celebrations_go_where_the_team_chose(slack: SlackHarness) -> None:
    posted = await _give(slack)  # the default: where it was given, and a DM
    assert [channel for channel, _ in posted] == ["CGENERAL", "UBOB"]

    await slack.command("settings celebrate nowhere", user="UBOB")
    await slack.settle()
    refusal = block_text(slack.private_answers()[-1]["blocks"])
    assert "Only admins can change where kudos are celebrated" in refusal

    assert "Kudos are celebrated nowhere" in await _admin(slack, "settings celebrate nowhere")
    assert [channel for channel, _ in await _give(slack)] == ["UBOB"]

    saved = await _admin(slack, "settings celebrate channel <#CKUDOS|kudos>")
    assert "Kudos are celebrated in <#CKUDOS>" in saved
    assert [channel for channel, _ in await _give(slack)] == ["CKUDOS", "UBOB"]

    await _admin(slack, "settings celebrate here")
    assert [c for c, _ in await _give(slack, channel="CRANDOM")] == ["CRANDOM", "UBOB"]


async def test_dms_off_for_the_workspace_and_for_one_person(slack: SlackHarness) -> None:
    await slack.command("notify off", user="UBOB")
    await slack.settle()
    assert "No more kudos DMs for you" in block_text(slack.private_answers()[-1]["blocks"])
    assert [channel for channel, _ in await _give(slack)] == ["CGENERAL"]

    # Muted kudos DMs never mute a pulse question.
    await slack.command('now "the new rota" to <@UBOB|bob>', user="UADMIN", command="/pulse")
    await slack.settle()
    assert any(channel == "UBOB" and "A quick pulse" in text for channel, text in _posts(slack))

    await slack.command("notify on", user="UBOB")
    await _admin(slack, "settings dms off")
    posted = await _give(slack)
    assert [channel for channel, _ in posted] == ["CGENERAL"]
    await _admin(slack, "settings dms on")
    assert [channel for channel, _ in await _give(slack, user="UCAROL")] == ["CGENERAL", "UBOB"]


async def test_a_thread_under_one_post_a_day_in_slack(
    slack: SlackHarness, clock: ManualClock
) -> None:
    saved = await _admin(slack, "settings celebrate thread <#CKUDOS|kudos>")
    assert "in a thread under one post a day in <#CKUDOS>" in saved
    await slack.command(GIVE)
    await slack.settle()
    clock.advance(timedelta(seconds=3))  # the reply waits for the post it goes under
    await slack.settle()
    await slack.command("<@UCAROL|carol> for the calm incident review", user="UBOB")
    await slack.settle()

    in_kudos = [c for c in slack.fake.to("chat.postMessage") if c.args["channel"] == "CKUDOS"]
    assert [("Today's kudos" in str(c.args["text"])) for c in in_kudos] == [True, False, False]
    daily = slack.fake.timeline["CKUDOS"][0]["ts"]
    assert [c.args.get("thread_ts") for c in in_kudos] == [None, daily, daily]
    assert "CGENERAL" not in [c.args["channel"] for c in slack.fake.to("chat.postMessage")]
