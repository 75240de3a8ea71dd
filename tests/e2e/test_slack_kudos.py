"""Kudos in Slack, end to end: signed requests in, Web API calls out, rows stored."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import Recognition, RecognitionTag
from tests.harness.fakes.slack_api import FakeSlack, block_text, blocks_of
from tests.harness.helpers import count, stored_kudos
from tests.harness.slack import SlackHarness, running, slack_config

pytestmark = pytest.mark.asyncio


def _acks_recorded() -> float:
    value = REGISTRY.get_sample_value("kudos_pulse_ack_seconds_count", {"platform": "slack"})
    return value or 0.0


async def test_give_kudos_acks_at_once_then_celebrates_and_dms(slack: SlackHarness) -> None:
    acks_before = _acks_recorded()
    response = await slack.command(
        "<@UBOB|bob> <@UCAROL|carol> for untangling the refund flow #easy #value"
    )
    assert response.status == 200
    assert await response.text() == ""
    assert _acks_recorded() == acks_before + 1  # the ack latency is on /metrics
    await slack.settle()

    answers = slack.private_answers()
    assert len(answers) == 1
    assert "Kudos sent to <@UBOB> and <@UCAROL>. You have 3 of 5 left today." in block_text(
        answers[0]["blocks"]
    )

    posts = slack.fake.to("chat.postMessage")
    by_channel = {call.args["channel"]: call for call in posts}
    assert set(by_channel) == {"CGENERAL", "UBOB", "UCAROL"}
    celebration = block_text(blocks_of(by_channel["CGENERAL"]))
    assert "🎉 <@UALICE> gave kudos to <@UBOB> and <@UCAROL>" in celebration
    assert ">for untangling the refund flow" in celebration
    assert "⚡ Made it EASY  ·  💎 Added VALUE" in celebration
    assert "You received kudos from <@UALICE>" in block_text(blocks_of(by_channel["UBOB"]))
    assert all(call.token == "xoxb-test-token" for call in posts)
    assert await stored_kudos(slack.app.db) == (1, 2, 3)
    assert await count(slack.app.db, RecognitionTag) == 2


@pytest.mark.parametrize(
    ("text", "user", "expected"),
    [
        (
            "<@UALICE|alice> for being my own hero #easy",
            "UALICE",
            "You can't give kudos to yourself",
        ),
        (
            "<@UDEPLOY|deploybot> for shipping the release",
            "UALICE",
            "deploybot is a bot — kudos are for people",
        ),
        (
            "<@UBOB|bob> for fixing the build #speedy",
            "UALICE",
            "Unknown tag #speedy. Valid tags: #easy (Made it EASY), #value (Added VALUE).",
        ),
        ("<@UBOB|bob> #easy", "UALICE", "Add a reason — what did they do?"),
        (
            "<@UBOB|bob> for " + "x" * 997,
            "UALICE",
            "Your reason is 1,001 characters; the limit is 1,000.",
        ),
    ],
)
async def test_refusals_are_private_and_store_nothing(
    slack: SlackHarness, text: str, user: str, expected: str
) -> None:
    response = await slack.command(text, user=user)
    assert response.status == 200
    await slack.settle()

    answers = slack.private_answers()
    assert len(answers) == 1 and expected in block_text(answers[0]["blocks"])
    assert answers[0]["response_type"] == "ephemeral"
    assert slack.fake.to("chat.postMessage") == []
    assert await stored_kudos(slack.app.db) == (0, 0, 0)


async def test_the_sixth_award_of_the_day_is_refused(slack: SlackHarness) -> None:
    for name in ("UBOB", "UCAROL", "UDAN", "UERIN", "UFRANK"):
        await slack.command(f"<@{name}> for reviewing my pull request")
    await slack.settle()
    before = await stored_kudos(slack.app.db)
    posts_before = len(slack.fake.to("chat.postMessage"))

    await slack.command("<@UGINA|gina> for reviewing my pull request")
    await slack.settle()

    assert "You've given all 5 of today's kudos" in block_text(
        slack.private_answers()[-1]["blocks"]
    )
    assert await stored_kudos(slack.app.db) == before == (5, 5, 10)
    assert len(slack.fake.to("chat.postMessage")) == posts_before


async def test_slack_escaping_is_undone_inbound_and_redone_outbound(slack: SlackHarness) -> None:
    await slack.command("<@UBOB|bob> for fixing R&amp;D's &lt;deploy&gt; script #easy")
    await slack.settle()

    async with slack.app.db.read() as unit:
        session = unit.session
        from sqlmodel import select

        reason = (await session.exec(select(Recognition.reason))).one()
    assert reason == "for fixing R&D's <deploy> script"
    celebration = slack.fake.to("chat.postMessage")[0]
    assert "for fixing R&amp;D's &lt;deploy&gt; script" in block_text(blocks_of(celebration))
    assert "R&amp;D" in celebration.args["text"]


async def test_user_text_cannot_ping_anyone(slack: SlackHarness) -> None:
    await slack.command(
        "<@UBOB|bob> for waking up <!channel> <!here> <!everyone> and <!subteam^S123|@oncall> "
        "and @here at night #easy"
    )
    await slack.settle()

    posts = slack.fake.to("chat.postMessage")
    assert len(posts) == 2
    for call in posts:
        shown = block_text(blocks_of(call)) + call.args["text"]
        assert "<!" not in shown
        assert "@here" not in shown and "@channel" not in shown
        assert not call.args.get("link_names")
    assert "@\u2060channel" in block_text(blocks_of(posts[0]))


async def test_stats_top_undo_and_help(slack: SlackHarness) -> None:
    await slack.command("<@UBOB|bob> <@UCAROL|carol> for the incident write-up #value")
    await slack.command("<@UBOB|bob> for pairing on the migration #easy", user="UDAN")
    await slack.settle()

    await slack.command("top week")
    await slack.settle()
    top = block_text(slack.private_answers()[-1]["blocks"])
    assert "🏆 Top kudos this week" in top
    assert top.index("🥇 <@UBOB> — 2") < top.index("🥈 <@UCAROL> — 1")

    await slack.command("stats", user="UBOB")
    await slack.settle()
    stats = block_text(slack.private_answers()[-1]["blocks"])
    assert "Received this week*\n2" in stats and "Left to give today*\n5 of 5" in stats

    await slack.command("undo", user="UDAN")
    await slack.settle()
    assert "↩️ Withdrawn: your kudos to @bob" in block_text(slack.private_answers()[-1]["blocks"])
    edits = slack.fake.to("chat.update")
    assert len(edits) == 1 and "This kudos was withdrawn by <@UDAN>" in block_text(
        blocks_of(edits[0])
    )
    assert await count(slack.app.db, Recognition, Recognition.revoked_at.is_not(None)) == 1

    await slack.command("help")
    await slack.settle()
    assert "/kudos @person [@person …] what they did #tag" in block_text(
        slack.private_answers()[-1]["blocks"]
    )


async def test_workspace_admins_see_other_peoples_stats(slack: SlackHarness) -> None:
    await slack.command("<@UBOB|bob> for the incident write-up #value")
    await slack.settle()
    await slack.command("stats <@UBOB|bob>", user="UCAROL")
    await slack.command("stats <@UBOB|bob>", user="UADMIN")
    await slack.settle()

    texts = [block_text(answer["blocks"]) for answer in slack.private_answers()]
    assert any("Other people's stats are for their team lead and admins" in t for t in texts)
    assert any("Kudos for bob" in t and "Received in total*\n1" in t for t in texts)


async def test_people_come_from_users_info_with_time_zone(slack: SlackHarness) -> None:
    await slack.command("<@UCAROL|carol> for the late-night fix")
    await slack.settle()

    from sqlmodel import select

    from storage.models import Person

    async with slack.app.db.read() as unit:
        session = unit.session
        people = {p.external_id: p for p in (await session.exec(select(Person))).all()}
    assert people["UALICE"].timezone == "Europe/Berlin"
    assert people["UCAROL"].timezone == "Asia/Tokyo" and people["UCAROL"].display_name == "carol"
    looked_up = [call.args["user"] for call in slack.fake.to("users.info")]
    assert sorted(looked_up) == ["UALICE", "UCAROL"]


async def test_celebrations_go_to_the_configured_kudos_channel(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> None:
    kudos = config.kudos.model_copy(update={"channel": "CKUDOS"})
    settings = slack_config(config.model_copy(update={"kudos": kudos}), fake_slack)
    async with running(settings, db, clock, fake_slack) as harness:
        await harness.command("<@UBOB|bob> for the smooth handover #value", channel="CRANDOM")
        await harness.settle()
    channels = sorted(call.args["channel"] for call in fake_slack.to("chat.postMessage"))
    assert channels == ["CKUDOS", "UBOB"]
