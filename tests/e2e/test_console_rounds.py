"""Admins see the pulses still open beside the schedules, and close one early."""

from __future__ import annotations

from bot.app import Application
from storage.models import AuditEntry
from tests.conftest import ConsoleHarness
from tests.harness.helpers import count, sealed_answers

TEAM = ("bob", "carol", "dan", "erin", "frank")


async def test_an_admin_lists_open_pulses_apart_from_schedules_and_closes_one(
    console: ConsoleHarness, app: Application
) -> None:
    console.platform.seen("finance", *TEAM)
    await console.say(
        '/pulse schedule "the expense tool" to #finance every mon at 10:00', as_user="admin"
    )
    sent = await console.say('/pulse now "the ticket view" to #finance open 48h', as_user="admin")
    assert "Pulse 1 “the ticket view”" in sent

    listed = await console.say("/pulse list", as_user="admin")
    assert "schedule 1. “the expense tool” → #finance" in listed
    assert "pulse 1 “the ticket view” · schedule 2 · asked 5 · closes Wed 18 Nov 10:00" in listed

    for person in TEAM:
        await console.say("/answer 1 easy=4 value=4", as_user=person)
    assert "Only admins" in await console.say("/pulse close 1", as_user="bob")
    closed = await console.say("/pulse close 1", as_user="admin")
    assert "🔒 Pulse 1 “the ticket view” is closed" in closed
    assert "[DM to @admin] == Pulse 1 results — the ticket view ==" in closed
    assert "EASY: 4.0 / 5 · 100% favourable" in closed
    assert await count(app.db, AuditEntry, AuditEntry.action == "pulse.close") == 1

    assert "pulse 1" not in await console.say("/pulse list", as_user="admin")
    again = await console.say("/pulse close 1", as_user="admin")
    assert "There is no open pulse 1" in again and "schedule N" in again
    late = await console.say("/answer 1 easy=1 value=1", as_user="bob")
    assert "this pulse has closed" in late


async def test_an_admin_cancels_an_open_pulse_and_it_leaves_no_trace_in_the_digest(
    console: ConsoleHarness, app: Application
) -> None:
    await console.say(
        f"/team create ops lead @dana members {' '.join('@' + p for p in TEAM)}", as_user="admin"
    )
    await console.say('/pulse now "the rota" to team:ops open 48h', as_user="admin")
    for person in TEAM:
        await console.say('/answer 1 easy=1 value=1 "please no"', as_user=person)

    assert await sealed_answers(app, 1) == 5
    assert "Only admins" in await console.say("/pulse cancel pulse 1", as_user="bob")
    cancelled = await console.say("/pulse cancel pulse 1", as_user="admin")
    assert "🗑 Pulse 1 “the rota” is cancelled: no results" in cancelled
    assert "results" not in cancelled.split("no results")[1].lower()
    assert "[DM to" not in cancelled  # nobody gets results
    assert await sealed_answers(app, 1) == 0  # the answers are gone, unread
    assert await count(app.db, AuditEntry, AuditEntry.action == "pulse.cancel_round") == 1

    assert "this pulse has closed" in await console.say("/answer 1 easy=5 value=5", as_user="bob")
    assert "There is no open pulse 1" in await console.say("/pulse close 1", as_user="admin")
    digest = await console.say("/digest now team:ops", as_user="dana")
    assert "no pulse rounds" in digest  # the cancelled round counts nowhere
    assert "the rota" not in digest
