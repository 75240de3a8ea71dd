"""The kudos story through the console adapter, as a person at the keyboard sees it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import Application
from bot.runtime.clock import ManualClock
from storage.models import Recognition, RecognitionTag
from tests.conftest import ConsoleHarness
from tests.harness.helpers import count, stored_kudos


async def test_giving_kudos_celebrates_in_channel_and_dms_each_recipient(
    console: ConsoleHarness, app: Application
) -> None:
    shown = await console.say("/kudos @bob @carol for untangling the refund flow #easy #value")

    assert (
        "[only @alice sees] ✅ Kudos sent to @bob and @carol. You have 3 of 5 left today." in shown
    )
    assert "[#general] 🎉 @alice gave kudos to @bob and @carol" in shown
    assert "> for untangling the refund flow" in shown
    assert "⚡ Made it EASY  ·  💎 Added VALUE" in shown
    assert "[DM to @bob] 🎉 You received kudos from @alice in #general" in shown
    assert "[DM to @carol] 🎉 You received kudos from @alice in #general" in shown
    assert await stored_kudos(app.db) == (1, 2, 3)
    assert await count(app.db, RecognitionTag) == 2


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/kudos @alice for being my own hero #easy", "You can't give kudos to yourself"),
        (
            "/kudos @deploybot for shipping the release #easy",
            "deploybot is a bot — kudos are for people",
        ),
        (
            "/kudos @bob for fixing the build #speedy",
            "Unknown tag #speedy. Valid tags: #easy (Made it EASY), #value (Added VALUE).",
        ),
        ("/kudos @bob", "Add a reason — what did they do?"),
        ("/kudos @bob #easy", "Add a reason — what did they do?"),
        ("/kudos @bob thanks", "Say a little more about what they did (at least 2 words)"),
        ("/kudos bob for the help", "Start with who you are thanking"),
        ("/kudos @bob for " + "x" * 1000, "Your reason is 1,004 characters; the limit is 1,000."),
        ("/kudos @bob for <!channel> " + "y" * 4000, "commands are limited to 4,000"),
        ("/kudos top yesterday", "Usage: /kudos top [week|month|quarter]"),
        ("/kudos undo now", "'/kudos undo' takes nothing after it."),
        ("/kodus @bob thanks a lot", "I don't know the command 'kodus'"),
    ],
)
async def test_refusals_are_private_clear_and_store_nothing(
    console: ConsoleHarness, app: Application, line: str, expected: str
) -> None:
    shown = await console.say(line)

    assert expected in shown
    assert shown.startswith("[only @alice sees]")
    assert "[#general]" not in shown and "[DM to" not in shown
    assert await stored_kudos(app.db) == (0, 0, 0)


async def test_exactly_1000_characters_is_accepted(
    console: ConsoleHarness, app: Application
) -> None:
    reason = "for fixing " + "z" * 989
    assert len(reason) == 1000
    shown = await console.say(f"/kudos @bob {reason}")
    assert "✅ Kudos sent to @bob" in shown
    assert await count(app.db, Recognition, Recognition.reason == reason) == 1


async def test_the_sixth_award_of_the_day_is_refused(
    console: ConsoleHarness, app: Application
) -> None:
    for name in ("bob", "carol", "dan", "erin", "frank"):
        assert "✅" in await console.say(f"/kudos @{name} for reviewing my pull request")
    before = await stored_kudos(app.db)

    shown = await console.say("/kudos @gina for reviewing my pull request")

    assert "You've given all 5 of today's kudos" in shown
    assert await stored_kudos(app.db) == before


async def test_a_group_award_that_would_overshoot_is_refused_whole(
    console: ConsoleHarness, app: Application
) -> None:
    await console.say("/kudos @bob @carol @dan for the launch checklist")
    before = await stored_kudos(app.db)

    shown = await console.say("/kudos @erin @frank @gina for the launch party")

    assert "You have 2 kudos left today, but this would give 3" in shown
    assert await stored_kudos(app.db) == before


async def test_allowance_refills_on_the_givers_next_local_day(
    console: ConsoleHarness, clock: ManualClock
) -> None:
    for name in ("bob", "carol", "dan", "erin", "frank"):
        await console.say(f"/kudos @{name} for reviewing my pull request")
    clock.advance(timedelta(hours=14))  # Monday 10:00 → Tuesday 00:00 UTC

    assert "You have 4 of 5 left today" in await console.say("/kudos @gina for the fast review")


async def test_unknown_user_in_reason_becomes_plain_text_and_broadcasts_are_neutralised(
    console: ConsoleHarness, app: Application
) -> None:
    shown = await console.say("/kudos @bob for helping @carol and <!channel> with @here #easy")

    assert "@\u2060channel" in shown and "@\u2060here" in shown
    assert "<!channel>" not in shown
    async with app.db.read() as unit:
        session = unit.session
        from sqlmodel import select

        reason = (await session.exec(select(Recognition.reason))).one()
    assert reason == "for helping @carol and @\u2060channel with @\u2060here"


async def test_stats_and_leaderboard(console: ConsoleHarness) -> None:
    await console.say("/kudos @bob @carol for the incident write-up #value")
    await console.say("/kudos @bob for pairing on the migration #easy", as_user="dan")

    top = await console.say("/kudos top week", as_user="alice")
    assert "🏆 Top kudos this week" in top
    assert top.index("🥇 @bob — 2") < top.index("🥈 @carol — 1")

    stats = await console.say("/kudos stats", as_user="bob")
    assert "Received this week: 2" in stats
    assert "Left to give today: 5 of 5" in stats
    assert "Top values: ⚡ Made it EASY ×1  ·  💎 Added VALUE ×1" in stats


async def test_other_peoples_stats_are_for_admins(console: ConsoleHarness) -> None:
    await console.say("/kudos @bob for the incident write-up #value")

    refused = await console.say("/kudos stats @bob", as_user="carol")
    assert "Other people's stats are for their team lead and admins." in refused

    allowed = await console.say("/kudos stats @bob", as_user="admin")
    assert "Kudos for bob" in allowed and "Received in total: 1" in allowed


async def test_leaderboard_can_be_turned_off(app: Application, console: ConsoleHarness) -> None:
    app.config.kudos.__dict__["leaderboard"] = False  # frozen model; tests flip it in place
    assert "The leaderboard is turned off" in await console.say("/kudos top")


async def test_undo_withdraws_within_the_window_only(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    await console.say("/kudos @bob for the fast refund #easy")
    clock.advance(timedelta(minutes=14))
    shown = await console.say("/kudos undo")
    assert '↩️ Withdrawn: your kudos to @bob — "for the fast refund".' in shown
    assert "[#general] (edited)" in shown and "This kudos was withdrawn by @alice" in shown
    assert "Received in total: 0" in await console.say("/kudos stats", as_user="bob")
    assert "You have 5 of 5" not in shown  # nothing else leaked

    await console.say("/kudos @carol for the code review", as_user="alice")
    clock.advance(timedelta(minutes=16))
    assert "Nothing to undo" in await console.say("/kudos undo")


async def test_undo_gives_the_allowance_back(console: ConsoleHarness) -> None:
    for name in ("bob", "carol", "dan", "erin", "frank"):
        await console.say(f"/kudos @{name} for reviewing my pull request")
    await console.say("/kudos undo")
    assert "✅ Kudos sent to @gina" in await console.say("/kudos @gina for the last review")


async def test_help_and_form(console: ConsoleHarness) -> None:
    help_text = await console.say("/kudos help")
    assert "/kudos @person [@person …] what they did #tag" in help_text
    assert "You can give 5 kudos a day" in help_text

    form = await console.say("/kudos")
    assert "📝 Give kudos" in form and "In the console, type: /kudos @person" in form


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/help", "More: /pulse help (EASY/VALUE pulses), /team help and /digest help"),
        ("/help pulse", "== Kudos & Pulse — EASY/VALUE pulses =="),
        ("/help teams", "== Teams — how to set them up =="),
        ("/help digest", "/digest now"),
    ],
)
async def test_help_names_every_feature_and_routes_topics(
    console: ConsoleHarness, app: Application, line: str, expected: str
) -> None:
    shown = await console.say(line)
    assert shown.startswith("[only @alice sees]")
    assert expected in shown
    assert await stored_kudos(app.db) == (0, 0, 0)
