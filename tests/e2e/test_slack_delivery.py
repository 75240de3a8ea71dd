"""Talking to a misbehaving Slack: 429s, permanent errors, a slow Web API, paginated members."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.runtime.clock import ManualClock
from storage.models import OutboxItem, Recognition
from tests.harness.fakes.slack_api import TEAM
from tests.harness.helpers import count
from tests.harness.slack import SlackHarness

pytestmark = pytest.mark.asyncio


async def _outbox(slack: SlackHarness) -> dict[str, OutboxItem]:
    async with slack.app.db.read() as unit:
        session = unit.session
        return {row.dedupe_key: row for row in (await session.exec(select(OutboxItem))).all()}


async def test_a_429_is_retried_after_retry_after(slack: SlackHarness, clock: ManualClock) -> None:
    slack.fake.rate_limit("chat.postMessage", retry_after=1)
    await slack.command("<@UBOB|bob> for the careful review #easy")
    await slack.settle()

    rows = await _outbox(slack)
    waiting = [row for row in rows.values() if row.status == "pending"]
    assert len(waiting) == 1 and "rate limited" in (waiting[0].last_error or "")
    assert waiting[0].not_before == clock.now() + timedelta(seconds=1)
    assert len(slack.fake.to("chat.postMessage")) == 2  # one accepted, one answered 429

    await slack.app.outbox.drain()  # not due yet: nothing is sent early
    assert len(slack.fake.to("chat.postMessage")) == 2

    clock.advance(timedelta(seconds=1))
    await slack.app.outbox.drain()
    assert {row.status for row in (await _outbox(slack)).values()} == {"sent"}
    channels = sorted(call.args["channel"] for call in slack.fake.to("chat.postMessage"))
    assert channels.count("CGENERAL") + channels.count("UBOB") == 3
    assert set(channels) == {"CGENERAL", "UBOB"}


async def test_a_permanent_error_is_not_retried(slack: SlackHarness, clock: ManualClock) -> None:
    slack.fake.fail("chat.postMessage", "channel_not_found")
    await slack.command("<@UBOB|bob> for the careful review #easy")
    await slack.settle()

    rows = await _outbox(slack)
    failed = [row for row in rows.values() if row.status == "failed"]
    assert len(failed) == 1 and failed[0].last_error == "slack: channel_not_found"

    clock.advance(timedelta(hours=2))
    await slack.app.outbox.drain()
    assert len(slack.fake.to("chat.postMessage")) == 2
    assert await count(slack.app.db, Recognition) == 1  # the kudos itself stands


async def test_a_temporary_error_is_retried_later(slack: SlackHarness, clock: ManualClock) -> None:
    slack.fake.fail("chat.postMessage", "internal_error")
    await slack.command("<@UBOB|bob> for the careful review #easy")
    await slack.settle()
    assert [row.status for row in (await _outbox(slack)).values()].count("pending") == 1

    clock.advance(timedelta(minutes=5))
    await slack.app.outbox.drain()
    assert {row.status for row in (await _outbox(slack)).values()} == {"sent"}
    assert len(slack.fake.to("chat.postMessage")) == 3


async def test_acks_stay_fast_while_slack_answers_after_two_seconds(slack: SlackHarness) -> None:
    for user in ("UALICE", "UBOB", "UCAROL"):  # known people: the slow part is then the posting
        await slack.command("help", user=user)
    await slack.settle()
    slack.fake.delay = 2.0
    started = time.perf_counter()
    give = await slack.command("<@UBOB|bob> for the careful review #easy")
    given_in = time.perf_counter() - started
    started = time.perf_counter()
    modal = await slack.command("", user="UCAROL")
    opened_in = time.perf_counter() - started

    assert give.status == modal.status == 200
    assert given_in < 3.0 and opened_in < 3.0
    assert max(given_in, opened_in) < 1.0  # the slow Web API is not waited for at all
    await slack.settle()
    assert await count(slack.app.db, Recognition) == 1
    assert {row.status for row in (await _outbox(slack)).values()} == {"sent"}
    # The modal was opened with the live trigger, within its three seconds.
    assert [call.args["trigger_id"] for call in slack.fake.to("views.open")] == ["trigger-5"]


async def test_channel_members_are_read_page_by_page(slack: SlackHarness) -> None:
    slack.fake.channels["CTEAM"] = ["UALICE", "UBOB", "UCAROL", "UDAN", "UERIN"]

    members = await slack.adapter.platform.directory(TEAM).channel_members("CTEAM")

    assert members == ["UALICE", "UBOB", "UCAROL", "UDAN", "UERIN"]
    cursors = [call.args.get("cursor") for call in slack.fake.to("conversations.members")]
    assert cursors == [None, "2", "4"]


async def test_the_directory_describes_people(slack: SlackHarness) -> None:
    directory = slack.adapter.platform.directory(TEAM)

    owner = await directory.person("UOWNER")
    bot = await directory.person("UDEPLOY")
    alice = await directory.person("UALICE")

    assert owner is not None and owner.is_admin and owner.timezone == "Europe/Paris"
    assert bot is not None and bot.is_bot
    assert alice is not None and alice.display_name == "alice" and not alice.is_admin
    assert await directory.person("UNOBODY") is None
    await directory.person("UALICE")  # cached
    assert len(slack.fake.to("users.info")) == 4
