from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops.config import ConfigError, load_config
from bot.runtime.processes import worker_count
from tests.conftest import ROOT


def test_the_shipped_app_yaml_is_valid_and_has_the_defaults() -> None:
    config = load_config(ROOT / "app.yaml", env={})
    assert [award.tag for award in config.kudos.awards] == ["easy", "value"]
    assert config.kudos.allowance == 5
    assert config.pulses.min_responses == 5
    assert config.database_url == "sqlite+aiosqlite:///./kudos_pulse.db"
    assert config.port == 3978
    assert not config.slack_enabled and not config.teams_enabled


def test_variables_expand_and_environment_overrides(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(
        "slack:\n  bot_token: ${TOKEN}\n  signing_secret: ${SECRET:-fallback}\nport: 8000\n"
    )
    config = load_config(
        path, env={"TOKEN": "xoxb-1", "PORT": "9000", "DATABASE_URL": "postgresql+asyncpg://db/x"}
    )
    assert config.slack.bot_token == "xoxb-1"
    assert config.slack.signing_secret == "fallback"
    assert config.port == 9000
    assert config.database_url == "postgresql+asyncpg://db/x"
    assert config.slack_enabled


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("kudos:\n  allowance: five\n", "kudos.allowance: Input should be a valid integer"),
        ("kudos:\n  alowance: 5\n", "kudos.alowance: unknown key"),
        ("pulses:\n  min_responses: 2\n", "pulses.min_responses: must be at least 3"),
        ("default_timezone: Mars/Olympus\n", "default_timezone: unknown time zone 'Mars/Olympus'"),
        (
            "kudos:\n  awards:\n    - tag: easy\n      label: A\n    - tag: easy\n      label: B\n",
            "every tag must be unique",
        ),
        ("kudos: [\n", "not valid YAML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "app.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_config(path, env={})


def test_a_typo_stops_start_up_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    path = tmp_path / "app.yaml"
    path.write_text("kudos:\n  allowance: five\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(path), "run"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "kudos.allowance" in lines[0] and "'five'" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("env", "processes"),
    [
        ({}, 0),  # SQLite: one process
        ({"DATABASE_URL": "postgresql+asyncpg://db/x"}, 1),
        ({"DATABASE_URL": "postgresql+asyncpg://db/x", "WORKERS": "0"}, 0),
        ({"WORKERS": "3"}, 3),
    ],
)
def test_worker_processes_follow_the_database_unless_set(
    env: dict[str, str], processes: int
) -> None:
    assert worker_count(load_config(ROOT / "app.yaml", env=env)) == processes


def test_an_impossible_worker_count_is_refused() -> None:
    with pytest.raises(ConfigError, match="workers"):
        load_config(ROOT / "app.yaml", env={"WORKERS": "99"})
