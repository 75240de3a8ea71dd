"""Teams and weekly digests through the console adapter, as admins, leads and members see them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import Application
from bot.ops.config import Config, QuietHours
from bot.ops.metrics import COMMANDS, SCHEDULER_FIRINGS
from bot.pulses.contract import RoundSummary
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import AuditEntry, DigestRun, DigestSchedule, OutboxItem, Team, TeamMember
from tests.conftest import ConsoleHarness, make_config
from tests.e2e.digest_org import DIGEST_TIME, build_support_team
from tests.harness.helpers import count

# Worked out by hand from tests/e2e/digest_org.py:
#   received this week: refund flow (bob, carol) + flaky test (bob) + covering (carol) = 4;
#   last week: the runbook (bob) = 1; the onboarding doc was withdrawn.
#   given this week: carol→frank + bob→carol = 2; last week: bob→frank = 1.
#   tags on kudos the team received this week: #easy 2 (refund, flaky test), #value 1.
#   erin's only kudos is 46 days old: quiet.
EXPECTED_DIGEST = """\
[only @dana sees] == Weekly digest — support ==
      Fri 13 Nov 16:00 – Fri 20 Nov 16:00 (UTC) · 3 members
    Kudos received: 4 (▲3 vs 1 last week)
    Kudos given: 2 (▲1 vs 1 last week)
    *Recognised this week:* @bob ×2, @carol ×2
    @alice → @bob and @carol  #easy #value
    > for untangling the refund flow
    @frank → @bob  #easy
    > for pairing on the flaky test
    @bob → @carol
    > for covering support on Tuesday
    *Values:* ⚡ Made it EASY 2  ·  💎 Added VALUE 1
    *No recognition in 30 days:* @erin
      Worth a look — a word of thanks goes a long way.
    ---
    *Pulse — EASY and VALUE*
      No pulse round for this team closed this week."""


async def test_lead_asks_for_the_digest_and_the_numbers_are_exact(
    console: ConsoleHarness, clock: ManualClock
) -> None:
    await build_support_team(console, clock)
    clock.set(DIGEST_TIME)

    shown = await console.say("/digest now", as_user="dana")

    assert shown == EXPECTED_DIGEST


async def test_an_admin_may_ask_for_any_teams_digest_privately(
    console: ConsoleHarness, clock: ManualClock, app: Application
) -> None:
    await build_support_team(console, clock)
    clock.set(DIGEST_TIME)
    outbox_before = await count(app.db, OutboxItem)

    shown = await console.say("/digest now team:support", as_user="admin")

    assert shown.startswith("[only @admin sees] == Weekly digest — support ==")
    assert "Kudos received: 4 (▲3 vs 1 last week)" in shown
    assert await count(app.db, OutboxItem) == outbox_before  # nobody was DM'd


async def test_a_week_with_nothing_to_report_says_so_briefly(
    console: ConsoleHarness, clock: ManualClock
) -> None:
    await build_support_team(console, clock)
    clock.set(DIGEST_TIME + timedelta(days=21))

    shown = await console.say("/digest now", as_user="dana")

    # A quiet week still names who has gone unrecognised (erin): what a lead most needs.
    assert shown == (
        "[only @dana sees] *Weekly digest — support*: a quiet week — no kudos given or "
        "received and no pulse rounds.\n      Fri 4 Dec 16:00 – Fri 11 Dec 16:00 (UTC)\n"
        "    *No recognition in 30 days:* @erin\n"
        "      Worth a look — a word of thanks goes a long way."
    )


class FakePulses:
    """A PulseSummaries collaborator with canned rounds (the pulses feature is elsewhere)."""

    def __init__(self, rounds: list[RoundSummary]) -> None:
        self.rounds = rounds
        self.asked: list[tuple[int, datetime]] = []

    async def for_team(
        self, workspace_id: int, team_id: int, *, until: datetime, limit: int = 8
    ) -> list[RoundSummary]:
        self.asked.append((team_id, until))
        return [r for r in self.rounds if r.scheduled_for < until][-limit:]


def _round(n: int, when: datetime, responded: int, easy: float, value: float) -> RoundSummary:
    shown = responded >= 5
    return RoundSummary(
        round_id=n,
        schedule_id=1,
        subject=f"the expense tool, round {n}",
        scheduled_for=when,
        closes_at=when + timedelta(hours=48),
        closed=True,
        invited=8,
        responded=responded,
        shown=shown,
        easy_mean=easy if shown else None,
        value_mean=value if shown else None,
        easy_favourable=0.75 if shown else None,
        value_favourable=0.5 if shown else None,
    )


async def test_pulse_results_show_above_the_threshold_only_with_sparkline_trend(
    console: ConsoleHarness, clock: ManualClock, app: Application
) -> None:
    await build_support_team(console, clock)
    first = DIGEST_TIME - timedelta(weeks=7, hours=2)
    rounds = [
        _round(n, first + timedelta(weeks=n), responded, easy, value)
        for n, (responded, easy, value) in enumerate(
            [
                (6, 1.0, 5.0),
                (6, 2.0, 4.0),
                (3, 9.9, 9.9),
                (7, 3.0, 3.0),
                (8, 4.0, 2.0),
                (6, 5.0, 1.0),
                (5, 3.2, 4.8),
                (4, 4.4, 4.4),
            ]
        )
    ]
    rounds.insert(7, _round(99, DIGEST_TIME - timedelta(days=3), 6, 4.25, 3.5))
    app.digests.pulse_summaries = FakePulses(rounds)
    clock.set(DIGEST_TIME)

    shown = await console.say("/digest now", as_user="dana")

    assert "*Pulse — EASY and VALUE*" in shown
    assert (
        "*the expense tool, round 99* — 6/8 answered (75%) · EASY 4.2 (75% favourable) · "
        "VALUE 3.5 (50% favourable)" in shown
    )
    assert (
        "*the expense tool, round 7* — 4/8 answered (50%) · results hidden: fewer than 5 "
        "answers keep it anonymous" in shown
    )
    assert "4.4" not in shown and "9.9" not in shown
    # The last 8 rounds: 1, 2 (hidden ·), 3, 4, 5, 6, 99, 7 (hidden). A mean m is bar
    # number round((m - 1) / 4 * 7) of ▁▂▃▄▅▆▇█: EASY 2→2 3→4 4→5 5→7 3.2→4 4.25→6,
    # VALUE 4→5 3→4 2→2 1→0 4.8→7 3.5→4.
    assert "EASY trend (last 8 rounds): ▃·▅▆█▅▇·" in shown
    assert "VALUE trend (last 8 rounds): ▆·▅▃▁█▅·" in shown
    assert "Response rate: 70% over those rounds" in shown  # 45 of 64


async def test_channel_backed_team_follows_the_channel_at_digest_time(
    console: ConsoleHarness, clock: ManualClock, app: Application
) -> None:
    for person in ("gus", "hana"):
        console.chat.channel = "support-team"
        await console.say("/kudos help", as_user=person)  # they are in #support-team now
    console.chat.channel = "general"

    shown = await console.say(
        "/team create support lead @dana channel #support-team", as_user="admin"
    )
    assert "✅ Team support created: lead @dana, 2 members, following #support-team" in shown

    console.chat.channel = "support-team"
    await console.say("/kudos help", as_user="ivan")  # joins the channel later
    console.chat.channel = "general"
    await console.say("/kudos @ivan for a calm incident review #easy", as_user="gus")
    clock.advance(timedelta(hours=1))

    digest = await console.say("/digest now", as_user="dana")

    assert "· 3 members" in digest
    assert "*Recognised this week:* @ivan ×1" in digest
    assert "*No recognition in 30 days:* @gus and @hana" in digest


async def test_team_administration_is_audited_and_counted(
    console: ConsoleHarness, app: Application
) -> None:
    handled = COMMANDS.labels("team", "ok")._value.get()
    await console.say("/team create ops lead @dana members @bob", as_user="admin")
    added = await console.say("/team add ops @carol @erin", as_user="admin")
    removed = await console.say("/team remove ops @bob", as_user="admin")
    lead = await console.say("/team lead ops @erin", as_user="admin")
    shown = await console.say("/team show ops", as_user="admin")
    listed = await console.say("/team list", as_user="admin")

    assert "✅ Added @carol and @erin to ops (3 members)." in added
    assert "✅ Removed @bob from ops (2 members)." in removed
    assert "✅ @erin now leads ops and gets its digest." in lead
    assert "*Lead:* @erin" in shown and "*Members (2):* @carol and @erin" in shown
    assert "*ops* — lead @erin, 2 members" in listed
    async with app.db.read() as unit:
        session = unit.session
        actions = (await session.exec(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert list(actions) == ["team.create", "team.add", "team.remove", "team.lead"]
    assert COMMANDS.labels("team", "ok")._value.get() == handled + 6


@pytest.mark.parametrize(
    ("line", "user", "expected"),
    [
        ("/team create qa lead @bob members @carol", "bob", "Only admins can manage teams"),
        ("/team add support @frank", "dana", "Only admins can manage teams"),
        ("/team lead support @bob", "bob", "Only admins can manage teams"),
        ("/team list", "bob", "Only admins can manage teams"),
        ("/team show support", "dana", "Only admins can manage teams"),
        ("/digest schedule team:support every fri at 16:00", "dana", "Only admins can schedule"),
        ("/digest cancel 1", "dana", "Only admins can cancel digest schedules"),
        ("/digest now team:support", "bob", "Only support's lead and admins can see its digest"),
        ("/digest now", "bob", "you don't lead a team"),
        ("/digest list", "bob", "Digest schedules are for admins and team leads"),
        ("/team create qa lead @deploybot members @bob", "admin", "deploybot is a bot"),
        ("/team create support lead @erin members @bob", "admin", "already a team called support"),
        ("/team create qa lead @bob channel #nowhere", "admin", "'#nowhere' is not a channel"),
        ("/team add nosuch @bob", "admin", "There is no team called nosuch"),
        ("/digest schedule team:support every someday", "admin", "'someday' is not a weekday"),
        ("/digest schedule team:support at 24:30", "admin", "'24:30' is not a time of day"),
        ("/digest schedule team:support tz Moon/Base", "admin", "'Moon/Base' is not a time zone"),
        ("/digest cancel 42", "admin", "There is no digest schedule #42"),
    ],
)
async def test_refusals_are_private_and_change_nothing(
    console: ConsoleHarness, app: Application, line: str, user: str, expected: str
) -> None:
    await console.say("/team create support lead @dana members @bob @carol", as_user="admin")
    before = [
        await count(app.db, model) for model in (Team, TeamMember, DigestSchedule, AuditEntry)
    ]

    shown = await console.say(line, as_user=user)

    assert expected in shown
    assert shown.startswith(f"[only @{user} sees]") and "[DM to" not in shown
    after = [await count(app.db, model) for model in (Team, TeamMember, DigestSchedule, AuditEntry)]
    assert after == before


async def test_scheduled_digest_is_dmed_to_the_lead_once_per_period(
    console: ConsoleHarness, clock: ManualClock, app: Application
) -> None:
    await build_support_team(console, clock)
    scheduled = await console.say(
        "/digest schedule team:support every fri at 16:00 tz Europe/London", as_user="admin"
    )
    assert "📅 Digest #1 for support: every Friday at 16:00 (Europe/London), to @dana. " in (
        scheduled
    )
    assert "First one: Fri 20 Nov 2026 16:00." in scheduled
    firings = SCHEDULER_FIRINGS.labels("digest")._value.get()
    clock.set(DIGEST_TIME - timedelta(seconds=5))
    await app.scheduler.tick()
    assert await count(app.db, DigestRun) == 0  # not due yet

    clock.set(DIGEST_TIME + timedelta(seconds=10))
    start = len(console.lines)
    await app.scheduler.tick()
    await app.outbox.drain()
    await app.scheduler.tick()  # a second tick in the same period sends nothing more
    await app.outbox.drain()

    delivered = "\n".join(console.lines[start:])
    # The words, then the picture of the weeks' kudos: its text alternative and its file.
    words, _, picture = delivered.partition("\n    📊 ")
    assert words == EXPECTED_DIGEST.replace("[only @dana sees]", "[DM to @dana]").replace(
        "(UTC)",
        "(Europe/London)",  # London is on UTC in November: the same week
    )
    assert picture.startswith("Kudos by week — support\n")
    assert "week of 13 Nov: 4 received, 2 given." in picture
    saved = picture.splitlines()[-1].strip().removeprefix("saved as ")
    assert (await asyncio.to_thread(Path(saved).read_bytes)).startswith(b"\x89PNG")
    assert await count(app.db, DigestRun) == 1
    assert await count(app.db, OutboxItem, OutboxItem.dedupe_key == "digest:1:2026-W47") == 1
    assert SCHEDULER_FIRINGS.labels("digest")._value.get() == firings + 1
    async with app.db.read() as unit:
        session = unit.session
        schedule = (await session.exec(select(DigestSchedule))).one()
    assert schedule.next_fire_at == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)

    listed = await console.say("/digest list", as_user="dana")  # a lead sees their own
    assert "#1 support* — every Friday at 16:00 (Europe/London), next Fri 27 Nov 2026 16:00" in (
        listed
    )
    cancelled = await console.say("/digest cancel 1", as_user="admin")
    assert "Digest #1 for support cancelled" in cancelled
    clock.set(datetime(2026, 11, 27, 16, 1, tzinfo=UTC))
    await app.scheduler.tick()
    assert await count(app.db, DigestRun) == 1


async def test_weekly_schedule_fires_once_across_the_night_clocks_go_back(
    console: ConsoleHarness, clock: ManualClock, app: Application
) -> None:
    # London leaves BST on Sunday 25 Oct 2026 at 02:00 → 01:00: 01:30 happens twice.
    clock.set(datetime(2026, 10, 20, 12, 0, tzinfo=UTC))
    await console.say("/team create night lead @dana members @bob", as_user="admin")
    await console.say("/digest schedule team:night every sun at 01:30 tz Europe/London", "admin")

    for minute in range(0, 180, 15):  # ticks from 00:00 to 02:45 UTC
        clock.set(datetime(2026, 10, 25, 0, 0, tzinfo=UTC) + timedelta(minutes=minute))
        await app.scheduler.tick()

    async with app.db.read() as unit:
        session = unit.session
        runs = (await session.exec(select(DigestRun))).all()
        schedule = (await session.exec(select(DigestSchedule))).one()
    assert [run.scheduled_for for run in runs] == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]
    assert schedule.next_fire_at == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)  # 01:30 GMT


async def test_firing_missed_for_longer_than_the_grace_is_skipped_not_sent_late(
    console: ConsoleHarness, clock: ManualClock, app: Application
) -> None:
    await console.say("/team create ops lead @dana members @bob", as_user="admin")
    await console.say("/digest schedule team:ops every mon at 09:00 tz UTC", as_user="admin")
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC) + timedelta(hours=13))

    await app.scheduler.tick()

    assert await count(app.db, DigestRun) == 0
    async with app.db.read() as unit:
        session = unit.session
        schedule = (await session.exec(select(DigestSchedule))).one()
    assert schedule.next_fire_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


async def test_help_explains_team_and_digest_commands(console: ConsoleHarness) -> None:
    team_help = await console.say("/team help", as_user="bob")
    digest_help = await console.say("/digest help", as_user="bob")
    assert "/team create NAME lead @LEAD channel #CHANNEL" in team_help
    assert "/digest schedule team:NAME every WEEKDAY at HH:MM [tz ZONE]" in digest_help


async def test_a_digest_queued_before_a_crash_is_delivered_after_restart(
    console: ConsoleHarness, clock: ManualClock, app: Application, config: Config
) -> None:
    await build_support_team(console, clock)
    await console.say("/digest schedule team:support every fri at 16:00", as_user="admin")
    clock.set(DIGEST_TIME + timedelta(seconds=10))
    await app.scheduler.tick()  # queued in the outbox … and the process dies before sending
    assert not any("[DM to @dana]" in line for line in console.lines)

    restarted = Application(config, clock=clock, db=Database(app.db.url))
    printed: list[str] = []
    restarted.load_adapter("console", out=printed.append)
    await restarted.scheduler.tick()  # the new process does not fire it again
    await restarted.outbox.drain()
    await restarted.db.dispose()

    assert "\n".join(printed).startswith("[DM to @dana] == Weekly digest — support ==")
    assert sum(line.startswith("[DM to @dana]") for line in printed) == 1
    assert await count(app.db, DigestRun) == 1


async def test_a_digest_due_in_the_leads_quiet_hours_waits_for_the_morning(
    db: Database, clock: ManualClock
) -> None:
    quiet = make_config(quiet_hours=QuietHours(enabled=True, start="20:00", end="08:00"))
    console = ConsoleHarness(Application(quiet, clock=clock, db=db))
    await console.say("/team create ops lead @dana members @bob", as_user="admin")
    await console.say("/kudos @bob for the calm on-call handover", as_user="carol")
    await console.say("/digest schedule team:ops every mon at 21:00 tz UTC", as_user="admin")

    clock.set(datetime(2026, 11, 16, 21, 0, 5, tzinfo=UTC))
    await console.app.scheduler.tick()
    await console.app.outbox.drain()
    assert not any(line.startswith("[DM to @dana]") for line in console.lines)

    clock.set(datetime(2026, 11, 17, 8, 0, 1, tzinfo=UTC))
    await console.app.outbox.drain()
    assert any(line.startswith("[DM to @dana] == Weekly digest — ops ==") for line in console.lines)
