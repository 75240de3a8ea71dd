"""`kudos-pulse init [DIR]`, run as an operator runs it (a process, nothing on standard
input): the files a deployment starts from, with safe modes, and never an overwrite."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops.config import load_config
from bot.ops.keys import load_keyring
from tests.conftest import ROOT

HEX_KEY = re.compile(r"^[0-9a-f]{64}\n$")


def _init(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KUDOS_PULSE_", "SLACK_", "MICROSOFT_", "DATABASE_URL"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "init", *argv],
        cwd=tmp_path,
        env={**base, "HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT), **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_writes_config_environment_file_and_pulse_key(tmp_path: Path) -> None:
    done = _init(tmp_path, "deploy-here")
    assert done.returncode == 0, done.stderr
    target = tmp_path / "deploy-here"
    key_file = tmp_path / "home/.config/kudos-pulse/pulse.key"

    # The same commented settings the shipped app.yaml documents.
    assert (target / "app.yaml").read_text() == (ROOT / "app.yaml").read_text()
    env_text = (target / "kudos-pulse.env").read_text()
    assert "#SLACK_SIGNING_SECRET=\n" in env_text
    # Every assignment is commented out: no value, let alone a secret, is filled in.
    assert [line for line in env_text.splitlines() if line and not line.startswith("#")] == []
    assert HEX_KEY.match(key_file.read_text())
    assert _mode(target / "kudos-pulse.env") == 0o600
    assert _mode(key_file) == 0o600
    assert _mode(target / "app.yaml") & 0o022 == 0  # nobody else may change it
    assert f"created  {key_file} (mode 600)" in done.stdout
    assert "kudos-pulse migrate && kudos-pulse check" in done.stdout

    # The bot finds that key through the written app.yaml, the way `run` will.
    config = load_config(target / "app.yaml", env={"HOME": str(tmp_path / "home")})
    assert (
        Path(config.pulses.key_file).expanduser()
        == Path("~/.config/kudos-pulse/pulse.key").expanduser()
    )


def test_a_second_init_changes_nothing_so_open_pulses_are_never_rekeyed(tmp_path: Path) -> None:
    assert _init(tmp_path).returncode == 0
    key_file = tmp_path / "home/.config/kudos-pulse/pulse.key"
    (tmp_path / "app.yaml").write_text("bot_name: Our own\n")  # the operator's edits
    (tmp_path / "kudos-pulse.env").write_text("SLACK_BOT_TOKEN=xoxb-theirs\n")
    before = {
        path: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in (tmp_path / "app.yaml", tmp_path / "kudos-pulse.env", key_file)
    }

    again = _init(tmp_path)

    assert again.returncode == 0, again.stderr
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in before} == before
    assert again.stdout.count("kept     ") == 3 and "created" not in again.stdout
    assert "init never overwrites" in again.stdout


def test_init_puts_the_key_where_the_environment_says(tmp_path: Path) -> None:
    wanted = tmp_path / "secrets" / "pulse.key"
    done = _init(tmp_path, KUDOS_PULSE_KEY_FILE=str(wanted))
    assert done.returncode == 0, done.stderr
    assert HEX_KEY.match(wanted.read_text()) and _mode(wanted) == 0o600
    assert not (tmp_path / "home/.config/kudos-pulse/pulse.key").exists()
    # The same mechanism `run` uses reads it back.
    config = load_config(tmp_path / "app.yaml", env={"KUDOS_PULSE_KEY_FILE": str(wanted)})
    assert load_keyring(config, create=False).secret == wanted.read_text().strip().encode()


def test_with_a_secret_in_the_environment_init_writes_no_key_file(tmp_path: Path) -> None:
    done = _init(tmp_path, KUDOS_PULSE_SECRET="x" * 64)
    assert done.returncode == 0, done.stderr
    assert "KUDOS_PULSE_SECRET (or pulses.secret) is set, no file needed" in done.stdout
    assert not (tmp_path / "home/.config/kudos-pulse").exists()


@pytest.mark.parametrize("broken", ["bot_name: [unclosed\n", "no_such_key: 1\n"])
def test_init_keeps_a_broken_app_yaml_and_says_what_is_wrong(tmp_path: Path, broken: str) -> None:
    (tmp_path / "app.yaml").write_text(broken)
    done = _init(tmp_path)
    assert done.returncode == 2
    assert (tmp_path / "app.yaml").read_text() == broken
    assert "kudos-pulse init: " in done.stdout and "Traceback" not in done.stderr
