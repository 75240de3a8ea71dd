"""Teams of people and their digests through Teams: an admin creates a team by @mention, its
lead reads the week as a card, and a scheduled digest arrives in the lead's 1:1 chat."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.models import DigestRun, DigestSchedule, OutboxItem, Team, TeamMember
from tests.conftest import make_config
from tests.harness.fakes.bot_connector import Posted
from tests.harness.helpers import count
from tests.harness.teams import (
    CHANNEL,
    TeamsChat,
    at,
    personal_conversation,
    uid,
)

# Friday 20 Nov 2026 16:00 UTC; the kudos below are all from Monday 16 Nov, inside its week.
DIGEST_TIME = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


@pytest.fixture
def config() -> Config:
    return make_config(admins=["29:alice"])


async def support_team(teams: TeamsChat) -> None:
    """support: lead Dana; members Bob, Carol, Erin. Alice (an admin) and Frank are outside.
    This week: Bob and Carol received 3 kudos between them, the team gave 2, Erin none."""
    teams.connector.add_member(uid("dana"), "Dana", "aad-dana")
    for name in ("alice", "bob", "carol", "frank"):
        await teams.install_personal(name)
    [created] = await teams.say(
        "alice",
        f"team create support lead {at('dana')} members {at('bob')} {at('carol')} {at('erin')}",
        mentions=("dana", "bob", "carol", "erin"),
    )
    assert "✅ Team support created" in created.shown, created.shown
    await teams.say(
        "frank",
        f"kudos {at('bob')} {at('carol')} for untangling the refund flow #easy",
        mentions=("bob", "carol"),
    )
    await teams.say(
        "bob", f"kudos {at('carol')} for covering support on Tuesday #value", mentions=("carol",)
    )
    await teams.say("carol", f"kudos {at('frank')} for the quick deploy fix", mentions=("frank",))


def assert_support_digest(post: Posted) -> None:
    card = post.card
    assert card is not None and card["version"] in ("1.4", "1.5")
    assert len(json.dumps(card).encode()) <= 28 * 1024
    shown = post.shown
    assert "Weekly digest — support" in shown
    assert "3 members" in shown
    assert "Kudos received: 3 (▲3 vs 0 last week)" in shown
    assert "Kudos given: 2 (▲2 vs 0 last week)" in shown
    assert "for untangling the refund flow" in shown
    assert "for covering support on Tuesday" in shown
    assert "No recognition in 30 days:** <at>Erin</at>" in shown
    # People are real Teams mentions, not just names.
    assert {uid("bob"), uid("carol"), uid("erin")} <= set(post.mentioned_ids)


async def test_an_admin_creates_a_team_by_mention_and_its_lead_reads_the_digest(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    await support_team(teams)
    async with app.db.read() as unit:
        session = unit.session
        [team] = (await session.exec(select(Team))).all()
    assert team.name == "support"
    assert await count(app.db, TeamMember) == 3
    clock.set(DIGEST_TIME)
    await teams.install_in_team()
    outbox_before = await count(app.db, OutboxItem)

    # Dana asks in the channel: the digest is hers alone, so it arrives in her 1:1 chat.
    shown = await teams.say("dana", "digest now team:support", where="channel")

    [digest] = shown
    assert digest.conversation_id == teams.connector.conversation_of(uid("dana"))
    assert teams.in_channel() == []
    assert_support_digest(digest)
    assert await count(app.db, OutboxItem) == outbox_before  # an answer, not a DM to anyone


async def test_someone_who_does_not_lead_the_team_is_refused_privately(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    await support_team(teams)
    clock.set(DIGEST_TIME)

    [refusal] = await teams.say("bob", "digest now team:support")
    assert refusal.conversation_id == personal_conversation("bob")
    assert "Only support's lead and admins can see its digest" in refusal.shown
    assert "Weekly digest" not in refusal.shown

    [refusal] = await teams.say(
        "bob", f"team create qa lead {at('bob')} members {at('carol')}", mentions=("bob", "carol")
    )
    assert "Only admins can manage teams" in refusal.shown
    assert await count(app.db, Team) == 1


async def test_a_scheduled_digest_arrives_in_the_leads_1_1_chat(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    await support_team(teams)
    [scheduled] = await teams.say(
        "alice", "digest schedule team:support every fri at 16:00 tz Europe/London"
    )
    assert "📅 Digest #1 for support: every Friday at 16:00 (Europe/London)" in scheduled.shown
    assert await count(app.db, DigestSchedule) == 1

    clock.set(DIGEST_TIME - timedelta(seconds=5))
    await app.scheduler.tick()
    await app.outbox.drain()
    assert teams.dms_to("dana") == []  # not due yet

    clock.set(DIGEST_TIME + timedelta(seconds=10))
    await app.scheduler.tick()
    await app.outbox.drain()
    await app.scheduler.tick()  # a second tick in the same period sends nothing more
    await app.outbox.drain()

    # Dana never talked to the bot: a 1:1 chat is created for her, proactively.
    [digest] = teams.dms_to("dana")
    assert digest.conversation_id == teams.connector.conversation_of(uid("dana"))
    assert_support_digest(digest)
    assert "(Europe/London)" in digest.shown
    assert await count(app.db, DigestRun) == 1


async def test_a_team_backed_by_a_channel_follows_its_paged_roster(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    teams.connector.add_member(uid("dana"), "Dana", "aad-dana")
    await teams.install_in_team()
    activity = teams.activity(
        "alice",
        where="channel",
        text=f"<at>Kudos</at> team create support lead {at('dana')} channel <at>General</at>",
        mentions=("bot", "dana"),
    )
    channel_mention = {"id": CHANNEL, "name": "General"}
    activity["entities"].append(
        {"type": "mention", "text": "<at>General</at>", "mentioned": channel_mention}
    )
    assert await teams.post(activity) in (200, 201)
    async with app.db.read() as unit:
        session = unit.session
        team = (await session.exec(select(Team))).one()
    assert team.channel_id == CHANNEL

    # Eight people in the channel (Dana too), three to a page: the team is all of them.
    shown = await teams.say("dana", "digest now")
    [digest] = shown
    assert "Weekly digest — support" in digest.shown
    assert "a quiet week" in digest.shown
    assert await count(app.db, TeamMember) == 8  # all of them, read across three pages
