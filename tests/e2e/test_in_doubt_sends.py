"""Sends whose outcome is unknown: the platform stored the post, then the call failed (a 500, a
stall past the client's timeout, a dropped connection). On Slack the retry looks the message up
by its outbox key first, so nobody is asked twice; Teams offers no such lookup, so the retry is
a blind resend — made after a delay and counted, the count matching the duplicates exactly."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import Application
from bot.ops.config import Config, PulseSettings
from bot.ops.metrics import OUTBOX_BLIND_RESENDS
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import OutboxItem, PulseDelivery
from tests.conftest import make_config
from tests.harness.fakes.slack_api import FakeSlack, crowd
from tests.harness.helpers import count
from tests.harness.slack import running, slack_config
from tests.harness.teams import CHANNEL, TeamsChat

pytestmark = pytest.mark.asyncio

PEOPLE = 300
SHARE = 0.05  # of posts stored and then failed
SUBJECT = "the new laptops"


@pytest.fixture
def config() -> Config:
    return make_config(admins=["29:alice"], pulses=PulseSettings(min_responses=3))


async def _statuses(db: Database) -> Counter[str]:
    async with db.read() as unit:
        return Counter(row.status for row in (await unit.session.exec(select(OutboxItem))).all())


async def _deliver_everything(
    db: Database, clock: ManualClock, drain: Callable[[], Awaitable[None]]
) -> None:
    """Drain the outbox, letting the (manual) clock run through retry delays, until nothing
    waits; a retry of an in-doubt send waits ten seconds at least."""
    for _ in range(60):
        await drain()
        if set(await _statuses(db)) <= {"sent", "failed", "cancelled"}:
            return
        clock.advance(timedelta(seconds=30))
    raise AssertionError(f"the outbox did not empty: {await _statuses(db)}")


async def test_slack_posts_that_failed_after_arriving_are_found_not_posted_twice(
    config: Config, db: Database, clock: ManualClock
) -> None:
    fake = await FakeSlack(post_then_fail=SHARE, stall=1.0).start()
    fake.ts_clock = lambda: clock.now().timestamp()
    people = crowd(PEOPLE)
    fake.users.update(people)
    fake.channels["CALL"] = list(people)
    fake.page_size = 200
    # The client gives up on a call after half a second: a stall leaves the post in doubt.
    settings = slack_config(config, fake, api_timeout_seconds=0.5)
    try:
        async with running(settings, db, clock, fake) as slack:
            response = await slack.command(
                f'now "{SUBJECT}" to <#CALL|all> open 24h', user="UADMIN", command="/pulse"
            )
            assert response.status == 200
            await slack.settle()
            await _deliver_everything(db, clock, slack.settle)
            stats = slack.app.outbox.stats
    finally:
        await fake.close()

    # About 5 % of the 300 posts were stored by Slack and then failed (a 500, or no answer
    # within the client's timeout) — the run is seeded, so the number repeats.
    assert 5 <= fake.posted_then_failed <= 30
    questions = Counter(
        channel
        for channel, posts in fake.timeline.items()
        for post in posts
        if SUBJECT in str(post.get("text"))
    )
    # Everyone has exactly one question in their DM: none lost, none twice.
    assert set(questions) == {"D" + person for person in people}
    assert set(questions.values()) == {1}
    assert await count(db, PulseDelivery) == PEOPLE
    assert (await _statuses(db))["sent"] >= PEOPLE
    # Each in-doubt post was looked up, with one history read, and none was resent blindly.
    # (On a busy machine an ordinary post may also outlast the half-second timeout: it is in
    # doubt as well, and found or — if Slack had not stored it yet — sent again, once.)
    assert stats.in_doubt >= fake.posted_then_failed
    assert stats.recovered >= fake.posted_then_failed
    assert stats.blind_resends == 0
    assert len(fake.to("conversations.history")) == stats.in_doubt
    print(f"slack: {stats.in_doubt} posts in doubt, {stats.recovered} found, 0 duplicates")


@pytest.mark.parametrize(
    ("status", "error"), [(200, "internal_error"), (400, "invalid_arguments"), (503, "")]
)
async def test_a_slack_post_refused_for_sure_is_retried_without_a_lookup(
    config: Config, db: Database, clock: ManualClock, status: int, error: str
) -> None:
    fake = await FakeSlack().start()
    fake.ts_clock = lambda: clock.now().timestamp()
    try:
        async with running(slack_config(config, fake), db, clock, fake) as slack:
            fake.answer_status("chat.postMessage", status, error)
            response = await slack.command("<@UBOB> thanks for the review #easy")
            assert response.status == 200
            await _deliver_everything(db, clock, slack.settle)
            stats = slack.app.outbox.stats
    finally:
        await fake.close()

    # Every message the kudos produced (Bob's DM, the channel post) arrived exactly once;
    # the refused call was tried again.
    delivered = [
        post["metadata"]["event_payload"]["key"]
        for posts in fake.timeline.values()
        for post in posts
    ]
    async with db.read() as unit:
        queued = (await unit.session.exec(select(OutboxItem))).all()
    assert sorted(delivered) == sorted(row.dedupe_key for row in queued)
    assert {row.status for row in queued} == {"sent"}
    assert len(fake.to("chat.postMessage")) == len(queued) + 1
    if status >= 500:  # Slack may have posted it: checked before the retry (it had not)
        assert stats.in_doubt == 1 and len(fake.to("conversations.history")) == 1
    else:  # ok: false or a 4xx: Slack said it did not post; nothing to look up
        assert stats.in_doubt == 0 and fake.to("conversations.history") == []
        assert stats.retried == 1
    assert stats.blind_resends == 0 and stats.recovered == 0


async def test_teams_posts_that_failed_after_arriving_are_resent_after_a_delay_and_counted(
    teams: TeamsChat,
    app: Application,
    db: Database,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="bot.outbox")
    connector = teams.connector
    connector.page_limit = 100
    everyone = [f"29:person{n:03d}" for n in range(PEOPLE)]
    for user in everyone:
        connector.add_member(user, user.removeprefix("29:"), f"aad-{user}")
    await teams.install_in_team()
    connector.post_then_fail = SHARE
    counted_before = OUTBOX_BLIND_RESENDS.labels(platform="teams")._value.get()
    activity = teams.activity(
        "alice",
        where="channel",
        text=f'<at>Kudos</at> pulse now "{SUBJECT}" to <at>General</at>',
        mentions=("bot",),
    )
    activity["entities"].append(
        {"type": "mention", "text": "<at>General</at>", "mentioned": {"id": CHANNEL}}
    )
    assert await teams.post(activity) in (200, 201)
    await app.outbox.drain()
    failed_once = connector.posted_then_failed
    assert failed_once > 0
    # Not resent at once: an in-doubt post waits ten seconds at least.
    clock.advance(timedelta(seconds=9))
    await app.outbox.drain()
    assert app.outbox.stats.blind_resends == 0
    await _deliver_everything(db, clock, app.outbox.drain)

    asked = Counter(
        post.conversation_id
        for post in connector.posted
        if post.card is not None and bool(post.card.get("actions"))
    )
    conversations = {connector.conversation_of(user) for user in everyone}
    assert None not in conversations
    # Nobody was missed.
    assert conversations <= set(asked)
    duplicates = sum(n - 1 for n in asked.values())
    stats = app.outbox.stats
    assert 5 <= connector.posted_then_failed <= 40
    # Teams cannot be asked whether a post arrived: each in-doubt post was sent again,
    # blindly — and each such resend was counted, in the stats and in the metric.
    assert stats.in_doubt == connector.posted_then_failed
    assert stats.blind_resends == duplicates == connector.posted_then_failed
    counted = OUTBOX_BLIND_RESENDS.labels(platform="teams")._value.get() - counted_before
    assert counted == duplicates
    # One line per blind resend, at INFO, naming the outbox key but never the message.
    lines = [r.getMessage() for r in caplog.records if "cannot tell" in r.getMessage()]
    assert len(lines) == duplicates
    assert all(r.levelno == logging.INFO for r in caplog.records if "cannot tell" in r.getMessage())
    assert not any(SUBJECT in r.getMessage() for r in caplog.records)
    print(f"teams: {duplicates} blind resends (duplicates) of {len(asked)} questions")
