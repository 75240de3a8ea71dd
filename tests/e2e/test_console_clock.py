"""The console runs what `run` runs: on its clock a pulse closes, results arrive, a digest is
sent — all seen by a person typing into `kudos-pulse console`."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Application
from bot.ops import cli
from bot.ops.config import Config
from bot.runtime.clock import ManualClock

# Friday 20 Nov 2026 16:00 UTC; the clock starts on Monday 16 Nov at 10:00.
DIGEST_TIME = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
ANSWERING = ("bob", "carol", "erin", "frank", "gina")  # five: the default min_responses


class Keyboard:
    """Types the scripted lines; a timedelta or datetime moves the clock before the next line."""

    def __init__(self, clock: ManualClock, script: list[str | timedelta | datetime]) -> None:
        self.clock = clock
        self.script = list(script)

    async def __call__(self, prompt: str) -> str:
        while self.script:
            step = self.script.pop(0)
            if isinstance(step, timedelta):
                self.clock.advance(step)
            elif isinstance(step, datetime):
                self.clock.set(step)
            else:
                print(f"{prompt}{step}")  # as a terminal echoes what was typed
                return step
        raise EOFError


async def chat(
    config: Config, app: Application, clock: ManualClock, script: list[str | timedelta | datetime]
) -> int:
    args = argparse.Namespace(user="admin", channel="general")
    return await cli._console(config, args, app=app, read=Keyboard(clock, script))


async def test_a_pulse_closes_by_the_clock_and_the_digest_reports_it(
    config: Config, app: Application, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    answers: list[str | timedelta | datetime] = []
    for person in ANSWERING:
        answers += [f"/as {person}", "/answer 1 easy=4 value=5"]
    script: list[str | timedelta | datetime] = [
        "/team create support lead @dana members @bob @carol @erin @frank @gina",
        "/digest schedule team:support every fri at 16:00 tz UTC",
        '/pulse now "the new ticket view" to team:support open 24h',
        *answers,
        "/as alice",
        "/kudos @bob for untangling the refund flow #easy",
        timedelta(hours=23),
        "/kudos help",
        timedelta(hours=2),  # past the close: the next line shows what the scheduler did
        "/as dana",
        DIGEST_TIME,
        "/pulse results latest",
    ]

    assert await chat(config, app, clock, script) == 0
    shown = capsys.readouterr().out

    before_close, _, after_close = shown.partition("@alice #general> /kudos help")
    assert "results" not in after_close.split("@alice #general> /as dana")[0].lower()
    assert "5 people (team:support)" in before_close
    closed, _, at_digest = after_close.partition("@dana #general> /pulse results latest")
    assert "[DM to @admin] == Pulse 1 results — the new ticket view ==" in closed
    assert "[DM to @dana] == Pulse 1 results — the new ticket view ==" in closed
    assert "EASY: 4.0 / 5 · 100% favourable" in closed
    assert "Weekly digest" not in closed  # Friday 16:00 has not come yet
    # The line typed on Friday first shows what fell due: the lead's digest, both sections.
    digest, _, reply = at_digest.partition("[only @dana sees]")
    assert "[DM to @dana] == Weekly digest — support ==" in digest
    assert "Kudos received: 1" in digest
    assert "@alice → @bob  #easy" in digest
    assert "Pulse — EASY and VALUE" in digest
    assert "the new ticket view" in digest and "5/5 answered (100%) · EASY 4.0" in digest
    assert "EASY: 4.0 / 5" in reply  # and the lead can still ask


async def test_nothing_closes_before_its_time(
    config: Config, app: Application, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    script: list[str | timedelta | datetime] = [
        '/pulse now "the on-call rota" to #general open 24h',
        timedelta(hours=23, minutes=59),
        "/as bob",
    ]
    assert await chat(config, app, clock, script) == 0
    assert "Pulse 1 results" not in capsys.readouterr().out
