"""What an operator meets when something is off: one line that says what, never a traceback,
and no side effects from `check`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.ops.test_check import NOTHING_CONFIGURED


def kudos_pulse(
    cwd: Path, *argv: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "KUDOS_PULSE_CONFIG"}}
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        env={**base, **NOTHING_CONFIGURED, **(env or {})},
        cwd=cwd,
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_check_with_an_invalid_app_yaml_prints_a_fail_line(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text("kudos:\n  allowance: five\n")
    result = kudos_pulse(tmp_path, "check")
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("FAIL  configuration: ")
    assert "kudos.allowance" in lines[0]
    assert result.stderr == ""


def test_check_creates_no_database(tmp_path: Path) -> None:
    result = kudos_pulse(tmp_path, "--config", str(ROOT / "app.yaml"), "check")
    assert result.returncode == 1
    assert "FAIL  database schema is behind — run `kudos-pulse migrate`" in result.stdout
    assert not (tmp_path / "kudos_pulse.db").exists()


def test_without_app_yaml_a_notice_says_defaults_apply(tmp_path: Path) -> None:
    result = kudos_pulse(tmp_path, "migrate")
    assert result.returncode == 0
    assert "no ./app.yaml" in result.stderr and "built-in defaults" in result.stderr
    with_config = kudos_pulse(tmp_path, "--config", str(ROOT / "app.yaml"), "migrate")
    assert "no ./app.yaml" not in with_config.stderr


def test_a_busy_port_is_one_line(tmp_path: Path, busy_port: int) -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
        "SLACK_API_URL": "http://127.0.0.1:1/api/",
        "PORT": str(busy_port),
    }
    result = kudos_pulse(
        tmp_path, "--config", str(ROOT / "app.yaml"), "run", "--workers", "0", env=env
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"kudos-pulse: port {busy_port} is already in use" in result.stderr


def test_the_console_keeps_its_own_database(tmp_path: Path) -> None:
    result = kudos_pulse(
        tmp_path,
        "--config",
        str(ROOT / "app.yaml"),
        "console",
        stdin="/kudos @bob thanks for the fast refund\n/quit\n",
    )
    assert result.returncode == 0, result.stderr
    assert "Kudos sent to @bob" in result.stdout
    assert (tmp_path / "kudos_pulse_console.db").exists()
    assert not (tmp_path / "kudos_pulse.db").exists()  # where `run` with Slack keeps its data
