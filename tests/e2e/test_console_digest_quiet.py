"""A scheduled digest skips an empty week — no kudos, no pulse round, no quiet member — unless
the team asks for every week; a week whose only news is a quiet member is still sent."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.app import Application
from bot.runtime.clock import ManualClock
from storage.models import DigestRun
from tests.conftest import ConsoleHarness
from tests.harness.helpers import count

MONDAY = datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)


async def _fire(
    console: ConsoleHarness, clock: ManualClock, app: Application, when: datetime
) -> str:
    clock.set(when)
    start = len(console.lines)
    await app.scheduler.tick()
    await app.outbox.drain()
    return "\n".join(console.lines[start:])


async def test_an_empty_week_is_skipped_until_the_lead_asks_for_every_week(
    console: ConsoleHarness, clock: ManualClock, app: Application, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.digests")
    clock.set(datetime(2026, 11, 13, 12, 0, tzinfo=UTC))  # last week: bob is thanked
    await console.say("/team create ops lead @dana members @bob", as_user="admin")
    await console.say("/kudos @bob for the calm incident review", as_user="alice")
    clock.set(datetime(2026, 11, 17, 12, 0, tzinfo=UTC))
    await console.say("/digest schedule team:ops every mon at 09:00 tz UTC", as_user="admin")

    delivered = await _fire(console, clock, app, MONDAY)
    assert "[DM to @dana]" not in delivered  # no kudos, no round, nobody quiet: no digest
    assert await count(app.db, DigestRun) == 0
    assert "had an empty week; its digest is skipped" in caplog.text  # not missed: skipped

    refused = await console.say("/digest empty-weeks send team:ops", as_user="bob")
    assert "Only ops's lead and admins" in refused
    asked = await console.say("/digest empty-weeks send", as_user="dana")
    assert "team:ops gets its weekly digest every week" in asked

    delivered = await _fire(console, clock, app, datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC))
    assert "[DM to @dana] *Weekly digest — ops*: a quiet week" in delivered
    assert await count(app.db, DigestRun) == 1


async def test_a_week_whose_only_news_is_a_quiet_member_is_sent(
    console: ConsoleHarness, clock: ManualClock, app: Application
) -> None:
    clock.set(datetime(2026, 11, 16, 12, 0, tzinfo=UTC))
    await console.say("/team create ops lead @dana members @bob", as_user="admin")
    await console.say("/digest schedule team:ops every mon at 09:00 tz UTC", as_user="admin")

    delivered = await _fire(console, clock, app, MONDAY)
    assert "[DM to @dana] *Weekly digest — ops*: a quiet week" in delivered
    # The quiet week still names who has gone unrecognised: the reason it was sent.
    assert "*No recognition in 30 days:* @bob" in delivered
    assert await count(app.db, DigestRun) == 1
