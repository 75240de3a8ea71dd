"""`kudos-pulse --version`, and `--log-level` accepted after the subcommand as before it."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from tests.conftest import ROOT


def kudos_pulse(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        env={**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version(tmp_path: Path) -> None:
    result = kudos_pulse(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"kudos-pulse {metadata.version('kudos-pulse')}"


def test_log_level_after_the_subcommand(tmp_path: Path) -> None:
    config = ("--config", str(ROOT / "app.yaml"))
    chatty = kudos_pulse(tmp_path, *config, "migrate", "--log-level", "DEBUG")
    assert chatty.returncode == 0, chatty.stderr
    assert " DEBUG " in chatty.stderr
    quiet = kudos_pulse(tmp_path, *config, "migrate", "--log-level", "WARNING")
    assert quiet.returncode == 0
    assert quiet.stderr == ""
    assert "Database is up to date (0008_trust)." in quiet.stdout
    before = kudos_pulse(tmp_path, *config, "--log-level", "DEBUG", "migrate")
    assert " DEBUG " in before.stderr  # the old place still works
