"""The pulse story through the console adapter: schedule → fire → answer → remind → close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.console.platform import WORKSPACE
from bot.app import Application
from bot.ops.config import Config, PulseSettings
from bot.people.actor import Actor
from bot.runtime.clock import ManualClock
from storage.models import (
    AuditEntry,
    OutboxItem,
    PulseDelivery,
    PulseRound,
    PulseSchedule,
)
from tests.conftest import ConsoleHarness, make_config
from tests.harness.helpers import count, pulse_round, sealed_answers


@pytest.fixture
def config() -> Config:
    # Comments show from 5 answers here (the default asks for 8), so the walkthrough sees them.
    return make_config(pulses=PulseSettings(min_comment_responses=5))

FINANCE = ("bob", "carol", "dan", "erin", "frank", "gina")
# Monday 23 November 2026, 10:00 in Berlin (CET, UTC+1).
FIRST_FIRING = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def tick(app: Application, console: ConsoleHarness) -> str:
    start = len(console.lines)
    await app.scheduler.tick()
    await app.outbox.drain()
    return "\n".join(console.lines[start:])


async def schedule_finance(console: ConsoleHarness) -> str:
    console.platform.seen("finance", *FINANCE)
    return await console.say(
        '/pulse schedule "the new expense tool" to #finance every mon at 10:00 '
        "tz Europe/Berlin open 48h",
        as_user="admin",
    )


async def test_schedule_fire_answer_reanswer_remind_close_results(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    shown = await schedule_finance(console)
    assert "✅ Pulse schedule 1: “the new expense tool” to #finance" in shown
    assert "First round: Mon 23 Nov 10:00 (Europe/Berlin)" in shown
    assert await count(app.db, AuditEntry, AuditEntry.action == "pulse.schedule") == 1

    clock.set(FIRST_FIRING - timedelta(seconds=1))
    assert await tick(app, console) == ""  # not due yet
    clock.set(FIRST_FIRING + timedelta(seconds=5))
    fired = await tick(app, console)
    for person in FINANCE:
        assert f"[DM to @{person}] == 📊 A quick pulse ==" in fired
    assert fired.count("Did *the new expense tool* make things EASY and add VALUE?") == 6
    assert 'In the console, type: /answer 1 easy=1-5 value=1-5 "optional comment"' in fired
    assert "[DM to @admin]" not in fired  # the admin is not in #finance
    assert await tick(app, console) == ""  # a second tick fires nothing new

    answers = {
        "bob": '/answer 1 easy=2 value=2 "first thoughts"',
        "carol": "/answer 1 easy=5 value=5",
        "dan": '/answer 1 easy=4 value=2 "fast but pointless"',
        "erin": '/answer 1 easy=2 value=4 "clunky, worth it"',
    }
    for person, line in answers.items():
        reply = await console.say(line, as_user=person)
        assert (
            f"[only @{person} sees] ✅ Thanks! Your answer to pulse 1 is saved anonymously" in reply
        )
    # Answering again before close replaces the answer.
    reply = await console.say('/answer 1 easy=5 value=4 "saves me an hour"', as_user="bob")
    assert "saved anonymously" in reply and "EASY 5" not in reply  # scores never echoed
    # Adapters with forms submit through core.submit_form.
    frank = Actor(platform="console", workspace_id=WORKSPACE, user_id="frank")
    form_reply = await app.core.submit_form(
        frank, "pulse", {"easy": "3", "value": 3, "comment": ""}, context={"round": "1"}
    )
    assert form_reply.ok and "saved anonymously" in form_reply.messages[0].text
    unreadable = await app.core.submit_form(
        frank, "pulse", {"easy": "lots", "value": 3}, context={"round": "1"}
    )
    assert not unreadable.ok and unreadable.field_errors == {"easy": "Rate EASY from 1 to 5."}
    assert await sealed_answers(app, 1) == 5

    # Open rounds show no results yet, even to an admin, and only a coarse count.
    open_results = await console.say("/pulse results 1", as_user="admin")
    assert "5 or more answers so far" in open_results
    assert "Results appear when it closes" in open_results
    assert "saves me an hour" not in open_results

    # The reminder goes 4 hours before close, to gina only.
    clock.set(FIRST_FIRING + timedelta(hours=44) - timedelta(seconds=1))
    assert await tick(app, console) == ""
    clock.set(FIRST_FIRING + timedelta(hours=44))
    reminded = await tick(app, console)
    assert "[DM to @gina] == ⏰ Reminder — a pulse is waiting for you ==" in reminded
    assert reminded.count("[DM to") == 1
    assert await tick(app, console) == ""  # only one reminder

    clock.set(FIRST_FIRING + timedelta(hours=48))
    closed = await tick(app, console)
    assert "[DM to @admin] == Pulse 1 results — the new expense tool ==" in closed
    assert "Responses: 5 of 6 answered (83%)" in closed
    assert "EASY: 3.8 / 5 · 60% favourable" in closed  # 5, 5, 4, 2, 3
    assert "VALUE: 3.6 / 5 · 60% favourable" in closed  # 4, 5, 2, 4, 3
    assert "Easy & valuable: 2" in closed
    assert "Easy only: 1" in closed and "Valuable only: 1" in closed and "Neither: 1" in closed
    # Comments in a random order, never the order people answered in.
    quoted = sorted(line.strip() for line in closed.splitlines() if line.strip().startswith("> "))
    assert quoted == ["> clunky, worth it", "> fast but pointless", "> saves me an hour"]
    assert "first thoughts" not in closed  # replaced by bob's second answer

    late = await console.say("/answer 1 easy=1 value=1", as_user="gina")
    assert "this pulse has closed" in late
    stranger = await console.say("/answer 1 easy=1 value=1", as_user="zed")
    assert "You weren't asked in" in stranger
    assert (await pulse_round(app.db, 1)).responded == 5

    on_demand = await console.say("/pulse results latest", as_user="admin")
    assert "Responses: 5 of 6 answered (83%)" in on_demand
    refused = await console.say("/pulse results 1", as_user="bob")
    assert "Only admins, and team leads for their own teams" in refused

    # The next week's round is scheduled in Berlin time and the trend compares with round 1.
    async with app.db.read() as unit:
        session = unit.session
        schedule = await session.get(PulseSchedule, 1)
    assert schedule is not None
    assert schedule.next_fire_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    await tick(app, console)
    for person in ("bob", "carol", "dan", "erin", "frank"):
        await console.say("/answer 2 easy=5 value=5", as_user=person)
    clock.set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    second = await tick(app, console)
    assert "EASY trend: 3.8 → 5.0 (▲ +1.2)" in second
    assert "VALUE trend: 3.6 → 5.0 (▲ +1.4)" in second


async def test_results_and_comments_stay_hidden_below_the_threshold(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    console.platform.seen("ops", "bob", "carol", "dan", "erin")
    sent = await console.say('/pulse now "the on-call rota" to #ops open 1h', as_user="admin")
    assert "📊 Pulse 1 “the on-call rota” is on its way to 4 people (#ops)" in sent
    assert sent.count("[DM to") == 4
    for person in ("bob", "carol", "dan"):
        await console.say(f'/answer 1 easy=5 value=1 "secret note from {person}"', as_user=person)

    clock.advance(timedelta(hours=1))
    closed = await tick(app, console)
    assert "3 of 4 answered (75%)" in closed
    assert "Results are shown only with at least 5 answers" in closed
    assert "secret note" not in closed and "EASY:" not in closed
    shown = await console.say("/pulse results 1", as_user="admin")
    assert "secret note" not in shown and "EASY:" not in shown
    # Neither does the export: a round below the threshold is left out entirely.
    from bot.pulses.export import export_rows

    exported = [
        row async for row in export_rows(app.db, since=None, workspace_id=None)
    ]
    assert exported == []


async def test_a_team_pulse_reports_to_owner_and_lead(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    from storage.models import Team, TeamMember
    from storage.repositories import people, workspaces

    async with app.db.write() as unit:
        session = unit.session
        workspace = await workspaces.ensure(unit, "console", WORKSPACE, clock.now())
        assert workspace.id is not None
        members = {}
        for name in ("dana", "bob", "carol", "dan", "erin", "frank"):
            members[name] = await people.save(
                unit,
                workspace.id,
                name,
                display_name=name,
                timezone="UTC",
                is_bot=False,
                is_platform_admin=False,
                now=clock.now(),
            )
        team = Team(
            workspace_id=workspace.id,
            name="support",
            lead_id=members["dana"].id,
            created_at=clock.now(),
        )
        session.add(team)
        await session.flush()
        for person in members.values():
            session.add(TeamMember(team_id=team.id or 0, person_id=person.id or 0))

    sent = await console.say('/pulse now "the new ticket view" to team:support', as_user="admin")
    assert "on its way to 6 people (team:support)" in sent
    for name in ("bob", "carol", "dan", "erin", "frank"):
        await console.say("/answer 1 easy=4 value=4", as_user=name)
    # The lead may see her team's results; others may not.
    assert "Only admins" in await console.say("/pulse results 1", as_user="bob")
    clock.advance(timedelta(hours=48))
    closed = await tick(app, console)
    assert "[DM to @admin] == Pulse 1 results — the new ticket view ==" in closed
    assert "[DM to @dana] == Pulse 1 results — the new ticket view ==" in closed
    lead_view = await console.say("/pulse results latest", as_user="dana")
    assert "EASY: 4.0 / 5 · 100% favourable" in lead_view

    summaries = await app.pulses.summaries.for_team(
        workspace.id, team.id or 0, until=clock.now() + timedelta(days=1)
    )
    assert [(s.round_id, s.invited, s.responded, s.shown, s.easy_mean) for s in summaries] == [
        (1, 6, 5, True, 4.0)
    ]


async def test_pause_resume_and_cancel(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    await schedule_finance(console)
    listed = await console.say("/pulse list", as_user="admin")
    assert '1. “the new expense tool” → #finance · cron "0 10 * * mon" · Europe/Berlin' in listed
    assert "active · next Mon 23 Nov 10:00 (Europe/Berlin)" in listed

    assert "⏸ Pulse schedule 1 is paused" in await console.say("/pulse pause 1", as_user="admin")
    assert "already paused" in await console.say("/pulse pause 1", as_user="admin")
    clock.set(FIRST_FIRING + timedelta(minutes=1))
    assert await tick(app, console) == ""
    assert await count(app.db, PulseRound) == 0

    clock.set(FIRST_FIRING + timedelta(days=1))
    resumed = await console.say("/pulse resume 1", as_user="admin")
    assert "▶ Pulse schedule 1 resumed. Next round: Mon 30 Nov 10:00 (Europe/Berlin)." in resumed
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert "[DM to @bob]" in await tick(app, console)
    assert await count(app.db, PulseRound) == 1

    assert "cancelled" in await console.say("/pulse cancel 1", as_user="admin")
    clock.set(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    await tick(app, console)
    assert await count(app.db, PulseRound) == 1
    assert "No pulse schedules yet" in await console.say("/pulse list", as_user="admin")
    assert "no active pulse schedule 1" in await console.say("/pulse resume 1", as_user="admin")
    actions = await count(
        app.db,
        AuditEntry,
        AuditEntry.action.in_(  # type: ignore[attr-defined]
            ["pulse.pause", "pulse.resume", "pulse.cancel"]
        ),
    )
    assert actions == 3


@pytest.mark.parametrize(
    "line",
    [
        '/pulse schedule "x" to #finance every mon at 10:00',
        '/pulse now "x" to #finance',
        "/pulse list",
        "/pulse pause 1",
        "/pulse cancel 1",
    ],
)
async def test_a_non_admin_is_refused_and_nothing_changes(
    console: ConsoleHarness, app: Application, line: str
) -> None:
    await schedule_finance(console)
    before = await count(app.db, OutboxItem)
    shown = await console.say(line, as_user="bob")
    assert shown.startswith("[only @bob sees] Only admins can")
    assert await count(app.db, PulseSchedule) == 1
    assert await count(app.db, PulseRound) == 0
    assert await count(app.db, OutboxItem) == before
    async with app.db.read() as unit:
        session = unit.session
        schedule = await session.get(PulseSchedule, 1)
    assert schedule is not None and schedule.status == "active"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('/pulse schedule "x" to #finance every mon at 25:00', "'25:00' is not a time of day"),
        (
            '/pulse schedule "x" to #finance every mon at 10:00 tz Mars/Olympus',
            "I don't know the time zone 'Mars/Olympus'",
        ),
        (
            '/pulse schedule "x" to #nobody every mon at 10:00',
            "Nobody to ask: #nobody has no members I can see",
        ),
        ('/pulse now "x" to @deploybot', "Nobody to ask: None of the people listed can be asked"),
        (
            '/pulse schedule "x" to team:ghosts every mon at 10:00',
            "There is no team called 'ghosts'",
        ),
        ('/pulse schedule "x" to #finance on 2026-11-01 at 10:00', "is in the past"),
        (
            '/pulse schedule "x" to #finance on 2026-11-16 at 10:59 tz Europe/Berlin',
            "is in the past",
        ),
        ('/pulse schedule "x" to every mon at 10:00', "Add an audience"),
        ("/pulse schedule x to #finance every mon at 10:00", "Put the subject in quotes"),
        ('/pulse schedule "x" to #finance every funday at 10:00', "'funday' is not a day"),
        ('/pulse schedule "x" to #finance at 10:00', "Say when, exactly one of"),
        ('/pulse schedule "x" to #finance cron "0 10 * *"', "it needs 5 fields"),
        ('/pulse schedule "x" to #finance cron "0 10 30 2 *"', "never fires again"),
        ('/pulse schedule "x" to #finance every mon at 10:00 open 90d', "at most 30 days"),
        ('/pulse schedule "x" to #finance every mon at 10:00 open soon', "not a duration"),
        ("/answer 1 easy=9 value=2", "Rate EASY with a whole number from 1 to 5"),
        ("/answer 1 easy=3", "Rate VALUE from 1 to 5"),
        ("/pulse frobnicate", "I don't know '/pulse frobnicate'"),
    ],
)
async def test_bad_input_is_refused_clearly_and_stores_nothing(
    console: ConsoleHarness, app: Application, line: str, expected: str
) -> None:
    console.platform.seen("finance", *FINANCE)
    shown = await console.say(line, as_user="admin")
    assert expected in shown
    assert shown.startswith("[only @admin sees]")
    assert await count(app.db, PulseSchedule) == 0
    assert await count(app.db, OutboxItem) == 0


async def test_pulse_help(console: ConsoleHarness) -> None:
    shown = await console.say("/pulse help", as_user="bob")
    assert "== Kudos & Pulse — EASY/VALUE pulses ==" in shown
    assert "/pulse results ID|latest" in shown and "/answer ROUND easy=1-5" in shown


async def test_a_firing_missed_during_downtime_runs_once_if_still_open(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    console.platform.seen("finance", *FINANCE)
    await console.say(
        '/pulse schedule "the standup" to #finance every day at 10:00 tz UTC open 2h',
        as_user="admin",
    )
    # Down from Monday 09:00 to 11:00: the 10:00 firing is still open, so it runs once.
    clock.set(datetime(2026, 11, 17, 11, 0, tzinfo=UTC))
    first = await tick(app, console)
    assert first.count("[DM to") == 6
    assert await tick(app, console) == ""
    async with app.db.read() as unit:
        session = unit.session
        round_ = await session.get(PulseRound, 1)
    assert round_ is not None and round_.scheduled_for == datetime(2026, 11, 17, 10, tzinfo=UTC)
    assert round_.closes_at == datetime(2026, 11, 17, 12, tzinfo=UTC)

    # Down for two days: Wednesday's and Thursday's firings were missed; only Thursday's
    # window is still open at 11:30, so that one round runs — and never a second time.
    clock.set(datetime(2026, 11, 19, 11, 30, tzinfo=UTC))
    await tick(app, console)
    await tick(app, console)
    async with app.db.read() as unit:
        session = unit.session
        fired = sorted(
            r.scheduled_for
            for r in (
                await session.exec(
                    PulseRound.__table__.select()  # type: ignore[attr-defined]
                )
            ).all()
        )
    assert fired == [datetime(2026, 11, 17, 10, tzinfo=UTC), datetime(2026, 11, 19, 10, tzinfo=UTC)]

    # Back only after the window closed: nothing is sent late.
    clock.set(datetime(2026, 11, 20, 12, 30, tzinfo=UTC))
    await tick(app, console)
    assert await count(app.db, PulseRound) == 2
    async with app.db.read() as unit:
        session = unit.session
        schedule = await session.get(PulseSchedule, 1)
    assert schedule is not None and schedule.next_fire_at == datetime(2026, 11, 21, 10, tzinfo=UTC)


async def test_simultaneous_ticks_create_one_round(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    import asyncio

    await schedule_finance(console)
    clock.set(FIRST_FIRING)
    async with app.db.read() as unit:
        session = unit.session
        schedule = await session.get(PulseSchedule, 1)
    assert schedule is not None
    created = await asyncio.gather(
        *(app.pulses.rounds.fire(schedule, clock.now()) for _ in range(4))
    )
    assert sum(r is not None for r in created) == 1
    assert await count(app.db, PulseRound) == 1
    assert await count(app.db, PulseDelivery) == 6
    assert await count(app.db, OutboxItem) == 6
