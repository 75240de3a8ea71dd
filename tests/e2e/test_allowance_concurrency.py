"""Many simultaneous /kudos from one giver can never exceed the daily allowance."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from adapters.console.platform import WORKSPACE
from bot.app import Application
from bot.kudos.commands import GiveKudos
from bot.people.actor import Actor
from bot.runtime.clock import ManualClock
from storage.models import RecognitionRecipient
from tests.conftest import ConsoleHarness
from tests.harness.helpers import count


def _actor(user: str = "alice") -> Actor:
    return Actor(platform="console", workspace_id=WORKSPACE, user_id=user, channel_id="general")


async def test_twenty_simultaneous_kudos_never_exceed_the_allowance(
    console: ConsoleHarness, app: Application
) -> None:
    await console.say("/kudos help")  # registers alice
    commands = [
        GiveKudos(recipients=(f"person{n}",), reason="for the great teamwork today", tags=("easy",))
        for n in range(20)
    ]

    replies = await asyncio.gather(*(app.core.handle(_actor(), command) for command in commands))

    accepted = [reply for reply in replies if reply.ok]
    refused = [reply for reply in replies if not reply.ok]
    assert len(accepted) == 5
    assert all("today's kudos" in reply.messages[0].text for reply in refused)
    assert await count(app.db, RecognitionRecipient) == 5


async def test_concurrent_group_awards_respect_the_allowance(
    app: Application, console: ConsoleHarness
) -> None:
    await console.say("/kudos help")
    commands = [
        GiveKudos(recipients=(f"a{n}", f"b{n}"), reason="for covering my on-call shift")
        for n in range(10)
    ]
    replies = await asyncio.gather(*(app.core.handle(_actor(), command) for command in commands))
    assert sum(reply.ok for reply in replies) == 2  # 2 + 2 = 4; a third pair would make 6
    assert await count(app.db, RecognitionRecipient) == 4


async def test_allowance_day_follows_the_givers_time_zone(
    app: Application, console: ConsoleHarness, clock: ManualClock
) -> None:
    # 07:30 UTC on Tuesday is still Monday 23:30 in Los Angeles.
    clock.set(datetime(2026, 11, 17, 7, 30, tzinfo=UTC))
    los_angeles = Actor(
        platform="console",
        workspace_id=WORKSPACE,
        user_id="lena",
        channel_id="general",
        timezone="America/Los_Angeles",
    )
    for n in range(5):
        reply = await app.core.handle(los_angeles, GiveKudos(("bob",), f"for review number {n}"))
        assert reply.ok
    refused = await app.core.handle(los_angeles, GiveKudos(("bob",), "for one more review"))
    assert not refused.ok

    clock.set(datetime(2026, 11, 17, 8, 5, tzinfo=UTC))  # 00:05 Tuesday in Los Angeles
    assert (await app.core.handle(los_angeles, GiveKudos(("bob",), "for the next review"))).ok
