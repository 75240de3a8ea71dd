"""Quiet by default, chosen by the team, through the console: where celebrations go, whether
recipients get DMs, a person's own switch, and an admin-only setting refused clearly."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Application
from bot.runtime.clock import ManualClock
from storage.models import AuditEntry
from tests.conftest import ConsoleHarness
from tests.harness.helpers import count

GIVE = "/kudos @bob for untangling the refund flow #easy"


async def test_only_admins_change_the_settings_and_anyone_can_read_them(
    console: ConsoleHarness, app: Application
) -> None:
    refused = await console.say("/kudos settings celebrate nowhere")
    assert "Only admins can change where kudos are celebrated" in refused
    assert await count(app.db, AuditEntry) == 0
    shown = await console.say("/kudos settings")
    assert "celebrated in the channel where each kudos is given" in shown
    assert "recipients get a DM" in shown
    wrong = await console.say("/kudos settings celebrate loudly", as_user="admin")
    assert "Usage: /kudos settings celebrate here|channel #channel|nowhere" in wrong


async def test_nowhere_posts_nothing_and_the_dm_still_comes(console: ConsoleHarness) -> None:
    saved = await console.say("/kudos settings celebrate nowhere", as_user="admin")
    assert "Saved. Kudos are celebrated nowhere" in saved
    shown = await console.say(GIVE, as_user="alice")
    assert "[#general]" not in shown
    assert "[DM to @bob] 🎉 You received kudos from @alice" in shown


async def test_one_fixed_channel_gets_every_celebration(console: ConsoleHarness) -> None:
    await console.say("/in kudos", as_user="admin")  # the console links channels it knows
    saved = await console.say("/kudos settings celebrate channel #kudos")
    assert "Saved. Kudos are celebrated in #kudos" in saved
    await console.say("/in general")
    shown = await console.say(GIVE, as_user="alice")
    assert "[#kudos] 🎉 @alice gave kudos to @bob" in shown
    assert "[#general]" not in shown


async def test_dms_off_for_everyone_and_for_one_person(console: ConsoleHarness) -> None:
    muted = await console.say("/kudos notify off", as_user="bob")
    assert "No more kudos DMs for you" in muted and "Pulse questions" in muted
    shown = await console.say("/kudos @bob @carol for pairing on the migration", as_user="alice")
    assert "[#general] 🎉 @alice gave kudos to @bob and @carol" in shown
    assert "[DM to @bob]" not in shown
    assert "[DM to @carol] 🎉 You received kudos" in shown
    await console.say("/kudos notify on", as_user="bob")
    await console.say("/kudos settings dms off", as_user="admin")
    shown = await console.say("/kudos @bob for the quick review", as_user="carol")
    assert "[#general] 🎉 @carol gave kudos to @bob" in shown
    assert "[DM to" not in shown


async def test_a_thread_under_one_post_a_day(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    await console.say("/in kudos", as_user="admin")
    saved = await console.say("/kudos settings celebrate thread #kudos")
    assert "celebrated in a thread under one post a day in #kudos" in saved
    await console.say("/in general")
    start = len(console.lines)
    await console.say(GIVE, as_user="alice")
    # A reply waits for the post it goes under (the outbox tries again two seconds later).
    clock.advance(timedelta(seconds=3))
    await app.outbox.drain()
    await console.say("/kudos @carol for the calm incident review", as_user="bob")
    shown = "\n".join(console.lines[start:])
    assert shown.count("[#kudos] 🎉 Today's kudos") == 1  # one post a day, whoever gives
    assert shown.index("Today's kudos") < shown.index("[#kudos ↳ thread] 🎉 @alice gave kudos")
    assert "[#kudos ↳ thread] 🎉 @bob gave kudos to @carol" in shown
    assert "[#general]" not in shown
