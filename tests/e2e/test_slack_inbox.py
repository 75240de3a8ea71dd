"""Acknowledged Slack requests go through the inbox: stored once, done once, by any process.

The process answering Slack (role "web") only acknowledges and stores; a worker process
(role "worker", here a second Application on the same database) does the work. A request whose
worker died is done by another once the lease runs out, and doing it again gives nothing twice.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import InboxItem, Recognition
from storage.repositories import inbox as rows
from tests.harness.fakes.slack_api import FakeSlack, block_text
from tests.harness.helpers import stored_kudos
from tests.harness.slack import (
    SlackHarness,
    running,
    slack_config,
    slash_command,
)

pytestmark = pytest.mark.asyncio

KUDOS = "<@UBOB|bob> for untangling the refund flow #easy"


async def _revoked(db: Database) -> int:
    async with db.read() as unit:
        session = unit.session
        found = await session.exec(
            select(Recognition).where(col(Recognition.revoked_at).is_not(None))
        )
        return len(found.all())


async def _inbox(db: Database) -> list[InboxItem]:
    async with db.read() as unit:
        session = unit.session
        return list((await session.exec(select(InboxItem).order_by(InboxItem.id))).all())


def _worker(config: Config, db: Database, clock: ManualClock) -> Application:
    worker = Application(config, clock=clock, db=db, role="worker")
    worker.load_adapter("slack", freeze_gc=False)
    return worker


async def test_web_acknowledges_and_stores_a_worker_process_does_the_work(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> None:
    settings = slack_config(config, fake_slack)
    async with running(settings, db, clock, fake_slack, role="web") as web:
        web.app.inbox.assists_when_quiet = False  # as under load: the workers take everything
        response = await web.command(KUDOS)
        assert response.status == 200
        await web.settle()  # the web process stores the request and does nothing else
        assert await stored_kudos(db) == (0, 0, 0)
        assert fake_slack.to("chat.postMessage") == [] and fake_slack.responses == []
        [accepted] = await _inbox(db)
        assert (accepted.kind, accepted.status, accepted.key) == (
            "slack.command",
            "pending",
            "slack:command:T0TEST:trigger-1",
        )

        worker = _worker(settings, db, clock)
        try:
            await worker.inbox.drain()
            await worker.outbox.drain()
        finally:
            await worker.close()

    assert await stored_kudos(db) == (1, 1, 2)
    [answer] = [r for r in fake_slack.responses if r.get("response_type") == "ephemeral"]
    assert "Kudos sent to <@UBOB>" in block_text(answer["blocks"])
    assert {call.args["channel"] for call in fake_slack.to("chat.postMessage")} == {
        "CGENERAL",
        "UBOB",
    }
    [done] = await _inbox(db)
    # Done, and what Slack sent (text, response_url) is not kept.
    assert (done.status, done.payload, done.finished_at) == ("done", None, clock.now())


async def test_a_quiet_web_process_gives_the_kudos_itself_and_sends_what_it_queued(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> None:
    """Few requests a second: the web process runs the request at once (no hand-over to a
    worker process for the person to wait on), and its outbox sends the post and the DM."""
    settings = slack_config(config, fake_slack)
    async with running(settings, db, clock, fake_slack, role="web") as web:
        response = await web.command(KUDOS)
        assert response.status == 200
        await web.settle()
        assert await stored_kudos(db) == (1, 1, 2)
        [answer] = [r for r in fake_slack.responses if r.get("response_type") == "ephemeral"]
        assert "Kudos sent to <@UBOB>" in block_text(answer["blocks"])
        await web.app.outbox.drain()
        assert {call.args["channel"] for call in fake_slack.to("chat.postMessage")} == {
            "CGENERAL",
            "UBOB",
        }
    [done] = await _inbox(db)
    assert (done.status, done.payload, done.attempts) == ("done", None, 1)


async def test_what_was_acknowledged_during_shutdown_is_stored_before_the_process_exits(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> None:
    settings = slack_config(config, fake_slack)
    async with running(settings, db, clock, fake_slack, role="web") as web:
        web.app.stopping.set()  # SIGTERM: the writer may already be gone …
        response = await web.command(KUDOS)  # … while a request in flight is acknowledged
        assert response.status == 200
        await web.app.close()
    [stored] = await _inbox(db)
    assert (stored.key, stored.status) == ("slack:command:T0TEST:trigger-1", "pending")


async def test_a_command_delivered_twice_is_stored_and_done_once(slack: SlackHarness) -> None:
    for _ in range(2):
        response = await slack.command(KUDOS, trigger_id="trigger-same")
        assert response.status == 200
    await slack.settle()
    await slack.command(KUDOS, trigger_id="trigger-same")  # again, after it was done
    await slack.settle()

    assert await stored_kudos(slack.app.db) == (1, 1, 2)
    assert len(slack.private_answers()) == 1
    assert [item.status for item in await _inbox(slack.app.db)] == ["done"]


async def test_a_worker_that_died_mid_request_is_replaced_after_its_lease(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> None:
    settings = slack_config(config, fake_slack)
    async with running(settings, db, clock, fake_slack, role="web") as web:
        web.app.inbox.assists_when_quiet = False  # as under load: stored for the workers
        await web.command(KUDOS)
        await web.settle()
    [stored] = await _inbox(db)
    # A worker claims it and dies before doing anything.
    async with db.write() as session:
        [claimed] = await rows.claim_due(
            session,
            worker="died",
            now=clock.now(),
            lease=timedelta(seconds=120),
            limit=10,
            kinds=["slack.command"],
        )
    assert claimed.claimed_by == "died"

    survivor = _worker(settings, db, clock)
    try:
        await survivor.inbox.drain()
        assert await stored_kudos(db) == (0, 0, 0)  # the claim still holds
        clock.advance(timedelta(seconds=121))
        await survivor.inbox.drain()
        await survivor.outbox.drain()
        assert await stored_kudos(db) == (1, 1, 2)

        # Died again, this time after the kudos was stored but before it was marked done:
        # done again when the lease runs out, and nothing is given or posted twice.
        async with db.write() as unit:
            session = unit.session
            await session.exec(
                update(InboxItem).values(
                    status="working",
                    payload=stored.payload,
                    claimed_by="died",
                    claimed_until=clock.now(),
                )
            )
        clock.advance(timedelta(seconds=1))
        posts_before = len(fake_slack.to("chat.postMessage"))
        await survivor.inbox.drain()
        await survivor.outbox.drain()
    finally:
        await survivor.close()

    assert await stored_kudos(db) == (1, 1, 2)
    assert len(fake_slack.to("chat.postMessage")) == posts_before == 2
    assert len([r for r in fake_slack.responses if r.get("response_type") == "ephemeral"]) == 1
    [item] = await _inbox(db)
    assert (item.status, item.attempts) == ("done", 3)


async def test_a_retried_reaction_event_is_stored_once(slack: SlackHarness) -> None:
    slack.fake.history[("CGENERAL", "1700000000.000100")] = {
        "ts": "1700000000.000100",
        "user": "UBOB",
        "text": "shipped the fix for the refund flow #easy",
    }
    event = {
        "type": "reaction_added",
        "user": "UALICE",
        "reaction": "clap",
        "item_user": "UBOB",
        "item": {"type": "message", "channel": "CGENERAL", "ts": "1700000000.000100"},
    }
    first = await slack.event(event, event_id="EvSAME")
    retry = await slack.event(event, event_id="EvSAME", headers={"X-Slack-Retry-Num": "1"})
    assert (first.status, retry.status) == (200, 200)
    await slack.settle()

    assert await stored_kudos(slack.app.db) == (1, 1, 2)
    assert [(item.key, item.status) for item in await _inbox(slack.app.db)] == [
        ("slack:event:EvSAME", "done")
    ]


async def test_an_undo_run_again_after_a_crash_revokes_only_one_kudos(slack: SlackHarness) -> None:
    await slack.command(KUDOS, trigger_id="give-1")
    await slack.command("<@UCAROL|carol> for pairing on the outage #value", trigger_id="give-2")
    await slack.settle()
    await slack.command("undo", trigger_id="undo-1")
    await slack.settle()
    undo = next(item for item in await _inbox(slack.app.db) if item.key.endswith("undo-1"))
    assert await _revoked(slack.app.db) == 1

    # The worker died after the undo was committed, before the row was marked done.
    async with slack.app.db.write() as unit:
        session = unit.session
        await session.exec(
            update(InboxItem)
            .where(InboxItem.id == undo.id)
            .values(
                status="working",
                payload=slash_command(
                    slack.fake, "undo", trigger_id="undo-1", response_name="again"
                ),
                claimed_by="died",
                claimed_until=slack.app.clock.now(),
            )
        )
    clock = slack.app.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(seconds=1))
    await slack.settle()

    assert await _revoked(slack.app.db) == 1  # not the second kudos as well
    assert await stored_kudos(slack.app.db) == (2, 2, 5)  # the undo edits one celebration
