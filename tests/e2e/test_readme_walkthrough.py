"""README's pulse walkthrough, typed into the console as written, reaches real results and a
digest with both its kudos and its pulse — honestly, at the default thresholds."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from tests.conftest import ROOT, make_config
from tests.e2e.test_console_clock import chat


@pytest.fixture
def config() -> Config:
    return make_config()  # the defaults a newcomer gets: min_responses 5


def readme_console_blocks() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```console\n(.*?)```", text, re.DOTALL)
    return [[line for line in block.splitlines() if line.strip()] for block in blocks]


async def test_the_readme_walkthrough_shows_results_and_a_digest(
    config: Config, app: Application, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert config.pulses.min_responses == 5
    setup, digest = readme_console_blocks()
    # "two minutes later": the README's words, on the console's clock.
    assert await chat(config, app, clock, [*setup, timedelta(minutes=2), *digest]) == 0
    shown = capsys.readouterr().out

    assert "⚠️" not in shown  # five people asked: nothing to warn about
    assert "[DM to @admin] == Pulse 1 results — the new expense tool ==" in shown
    assert "[DM to @dana] == Pulse 1 results — the new expense tool ==" in shown
    assert "Responses: 5 of 5 answered (100%)" in shown
    assert "EASY: 3.6 / 5" in shown  # 4, 5, 3, 4, 2
    weekly = shown[shown.index("== Weekly digest — support ==") :]
    assert "Kudos received: 1" in weekly and "@gina → @bob  #easy" in weekly
    assert "Pulse — EASY and VALUE" in weekly
    assert "the new expense tool* — 5/5 answered (100%) · EASY 3.6" in weekly


async def test_creating_a_pulse_for_too_few_people_warns_the_admin(
    config: Config, app: Application, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    script: list[str | timedelta] = [
        '/pulse now "the new expense tool" to @bob @carol @dan',
        '/pulse schedule "the rota" to @bob @carol every mon at 10:00',
        '/pulse now "the big picture" to @bob @carol @dan @erin @frank',
    ]
    assert await chat(config, app, clock, list(script)) == 0
    replies = re.split(r"@admin #general> ", capsys.readouterr().out)[1:]
    warning = "results are shown only with at least 5 answers, so this round will never show any"
    assert "⚠️ Only 3 people are asked: " + warning in replies[0]
    assert "⚠️ Only 2 people are asked: " + warning in replies[1]
    assert "⚠️ Only" not in replies[2]
