"""What a person waits for comes first: workers hear about new requests from other processes
at once (PostgreSQL NOTIFY), and a kudos' confirmation does not wait for, or depend on, the
channel post and DMs it queued."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from bot.runtime.inbox import InboxSettings
from storage.db import Database
from storage.repositories import inbox as rows
from tests.conftest import ON_POSTGRES
from tests.harness.fakes.slack_api import FakeSlack, block_text
from tests.harness.helpers import stored_kudos
from tests.harness.slack import SlackHarness, running, slack_config

pytestmark = pytest.mark.asyncio

KUDOS = "<@UBOB|bob> for untangling the refund flow #easy"
# Longer than any test may take: a worker that found the request did not find it by polling.
NEVER = 3600.0


async def _until(condition: Callable[[], bool], rounds: int = 400) -> None:
    """Let the event loop run until `condition` holds (bounded; asserted by the caller)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.025)


@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite has no NOTIFY: its workers poll")
async def test_a_worker_process_is_woken_by_the_stored_request_not_by_its_poll(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> None:
    settings = slack_config(config, fake_slack)
    worker = Application(settings, clock=clock, db=Database(db.url), role="worker")
    worker.load_adapter("slack", freeze_gc=False)
    worker.inbox.settings = InboxSettings(slots=16, poll_seconds=NEVER, safety_poll_seconds=NEVER)
    stop = asyncio.Event()
    working = asyncio.create_task(worker.inbox.run_worker(stop))
    try:
        await _until(lambda: rows.CHANNEL in worker.db.listening)
        assert rows.CHANNEL in worker.db.listening
        await asyncio.sleep(0.1)  # the worker's first claim found nothing and it went idle
        async with running(settings, db, clock, fake_slack, role="web") as web:
            response = await web.command(KUDOS)
            assert response.status == 200
            await web.app.inbox.write_buffered()  # what the web process's writer task does
            await _until(lambda: bool(fake_slack.responses))
    finally:
        stop.set()
        await working
        await worker.close()
    [answer] = fake_slack.responses
    assert "Kudos sent to <@UBOB>" in block_text(answer["blocks"])
    assert await stored_kudos(db) == (1, 1, 2)  # the post and the DM wait in the outbox


async def test_the_confirmation_arrives_even_when_the_channel_post_then_fails(
    slack: SlackHarness,
) -> None:
    slack.fake.fail("chat.postMessage", "channel_not_found", times=10)
    response = await slack.command(KUDOS)
    assert response.status == 200
    await slack.settle()

    [answer] = slack.private_answers()
    assert "Kudos sent to <@UBOB>. You have 4 of 5 left today." in block_text(answer["blocks"])
    assert (await stored_kudos(slack.app.db))[:2] == (1, 1)
