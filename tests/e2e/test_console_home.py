"""The home through the console: `home` shows the same content as the platforms, as text."""

from __future__ import annotations

from tests.conftest import ConsoleHarness


async def test_home_shows_my_own_kudos_and_allowance(console: ConsoleHarness) -> None:
    await console.say("/kudos @bob @carol for untangling the refund flow #easy")
    shown = await console.say("home")
    assert "Kudos given" in shown and "2 this week · 2 this month" in shown
    assert "Left to give today" in shown and "3 of 5" in shown
    assert "Give kudos" in shown
    assert "Nothing to answer right now." in shown


async def test_home_for_a_recipient_shows_the_reason_and_who_gave_it(
    console: ConsoleHarness,
) -> None:
    await console.say("/kudos @bob for untangling the refund flow #easy")
    shown = await console.say("home", as_user="bob")
    assert "1 this week · 1 this month" in shown  # received
    assert "> for untangling the refund flow" in shown
    assert "from @alice" in shown
    assert "5 of 5" in shown  # bob gave nothing today
