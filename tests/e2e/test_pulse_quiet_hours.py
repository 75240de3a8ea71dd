"""With quiet hours on, questions and reminders wait for the morning in each person's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app import Application
from bot.ops.config import Config, QuietHours
from bot.runtime.clock import ManualClock
from tests.conftest import ConsoleHarness, make_config

# Monday 16 November 2026, 21:00 UTC — inside quiet hours (20:00–08:00, zone UTC).
EVENING = datetime(2026, 11, 16, 21, 0, tzinfo=UTC)


@pytest.fixture
def config() -> Config:
    return make_config(quiet_hours=QuietHours(enabled=True, start="20:00", end="08:00"))


async def test_questions_and_reminders_wait_until_quiet_hours_end(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    console.platform.seen("finance", "bob", "carol")
    await console.say(
        '/pulse schedule "the late release" to #finance every mon at 21:00 tz UTC open 14h',
        as_user="admin",
    )
    clock.set(EVENING)
    start = len(console.lines)
    await app.scheduler.tick()
    await app.outbox.drain()
    assert "[DM to" not in "\n".join(console.lines[start:])

    clock.set(datetime(2026, 11, 17, 7, 59, tzinfo=UTC))
    await app.outbox.drain()
    assert "[DM to" not in "\n".join(console.lines[start:])
    clock.set(datetime(2026, 11, 17, 8, 0, tzinfo=UTC))
    await app.outbox.drain()
    morning = "\n".join(console.lines[start:])
    assert "[DM to @bob] == 📊 A quick pulse ==" in morning
    assert "[DM to @carol] == 📊 A quick pulse ==" in morning


async def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    console.platform.seen("finance", "bob", "carol")
    await console.say(
        '/pulse schedule "the late release" to #finance every mon at 19:00 tz UTC open 14h',
        as_user="admin",
    )
    clock.set(datetime(2026, 11, 16, 19, 0, tzinfo=UTC))  # before quiet hours: asked at once
    start = len(console.lines)
    await app.scheduler.tick()
    await app.outbox.drain()
    assert "[DM to @carol] == 📊 A quick pulse ==" in "\n".join(console.lines[start:])
    await console.say("/answer 1 easy=4 value=4", as_user="bob")

    # Closes Tuesday 09:00; the reminder is due at 05:00, inside quiet hours.
    clock.set(datetime(2026, 11, 17, 5, 0, tzinfo=UTC))
    start = len(console.lines)
    await app.scheduler.tick()
    await app.outbox.drain()
    assert "[DM to" not in "\n".join(console.lines[start:])
    clock.set(datetime(2026, 11, 17, 8, 0, tzinfo=UTC))
    await app.outbox.drain()
    reminders = "\n".join(console.lines[start:])
    assert "[DM to @carol] == ⏰ Reminder — a pulse is waiting for you ==" in reminders
    assert "[DM to @bob]" not in reminders
