"""A partial set of Slack or Teams credentials is an error in `run` and `check`: one line
naming what is missing — never a quiet fall-back to the console, never "not configured"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.ops.conftest import Cli
from tests.ops.test_check import NOTHING_CONFIGURED

SECRET = "0123456789abcdef0123456789abcdef"
PARTIAL = [
    (
        {"SLACK_BOT_TOKEN": "xoxb-1"},
        "slack: SLACK_BOT_TOKEN set, but SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN "
        "(Socket Mode) missing",
    ),
    (
        {"SLACK_SIGNING_SECRET": SECRET},
        "slack: SLACK_SIGNING_SECRET set, but SLACK_BOT_TOKEN (HTTP) or SLACK_CLIENT_ID and "
        "SLACK_CLIENT_SECRET (OAuth) missing",
    ),
    (
        {"SLACK_APP_TOKEN": "xapp-1"},
        "slack: SLACK_APP_TOKEN set, but SLACK_BOT_TOKEN (Socket Mode) missing",
    ),
    (
        {"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": SECRET},
        "slack: OAuth needs SLACK_CLIENT_SECRET too",
    ),
    (
        {"MICROSOFT_APP_ID": "app"},
        "teams: MultiTenant needs MICROSOFT_APP_PASSWORD (or MICROSOFT_APP_TYPE=UserAssignedMSI "
        "for a managed identity)",
    ),
    ({"MICROSOFT_APP_PASSWORD": "pw"}, "teams: MultiTenant needs MICROSOFT_APP_ID"),
    (
        {
            "MICROSOFT_APP_ID": "app",
            "MICROSOFT_APP_PASSWORD": "pw",
            "MICROSOFT_APP_TYPE": "SingleTenant",
        },
        "teams: SingleTenant needs MICROSOFT_APP_TENANT_ID",
    ),
]


def run_without_terminal(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(ROOT / "app.yaml"), "run"],
        env={
            **os.environ,
            **NOTHING_CONFIGURED,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            **env,
        },
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,  # as under systemd: no terminal
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(("env", "message"), PARTIAL)
async def test_check_fails_on_a_partial_set(
    db: object, cli: Cli, capsys: pytest.CaptureFixture[str], env: dict[str, str], message: str
) -> None:
    assert await cli("check", env={**NOTHING_CONFIGURED, **env}) == 1
    out = capsys.readouterr().out
    assert f"FAIL  {message}" in out, out
    assert f"skip  {message.split(':')[0]}: not configured" not in out


@pytest.mark.parametrize(("env", "message"), PARTIAL[:1] + PARTIAL[4:5])
def test_run_stops_on_a_partial_set_with_one_line(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = run_without_terminal(tmp_path, env)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kudos-pulse: "), result.stderr
    assert message in lines[0]


def test_run_without_credentials_and_without_a_terminal_is_an_error(tmp_path: Path) -> None:
    result = run_without_terminal(tmp_path, {})
    assert result.returncode == 2
    assert "starting the local console" not in result.stdout
    assert "no Slack or Teams credentials are set, and there is no terminal" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
