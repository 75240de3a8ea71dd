"""`kudos-pulse console` as a person at the keyboard meets it: Ctrl-C leaves at once, /help
names the console's own words, slips of the keyboard get a "did you mean"."""

from __future__ import annotations

import io
import os
import pty
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PROMPT = b"@alice #general> "


def _as_from_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it: a suite started in the background by a script (CI
    runs two side by side) passes SIGINT on ignored, and the console would never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_console(tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "TEAMS_APP_ID", "TEAMS_APP_PASSWORD"):
        env.pop(name, None)
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(ROOT / "app.yaml"), "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        preexec_fn=_as_from_a_terminal,
    )


def read_until(process: subprocess.Popen[bytes], marker: bytes) -> bytes:
    """What the console printed up to and including `marker` (its prompt)."""
    assert process.stdout is not None
    seen = b""
    while not seen.endswith(marker):
        byte = process.stdout.read(1)
        assert byte, f"the console ended before {marker!r}: {seen.decode()}"
        seen += byte
    return seen


def test_ctrl_c_at_the_prompt_quits_at_once_without_a_traceback(tmp_path: Path) -> None:
    process = start_console(tmp_path)
    try:
        read_until(process, PROMPT)
        process.send_signal(signal.SIGINT)
        # stdin stays open and nothing is typed: no Enter (nor end of input) comes to help.
        returncode = process.wait(timeout=15)
    finally:
        process.kill()
    assert process.stderr is not None
    err = process.stderr.read().decode()
    assert returncode in (0, 130)
    assert "Traceback" not in err, err


def test_help_and_did_you_mean(tmp_path: Path) -> None:
    process = start_console(tmp_path)
    assert process.stdin is not None
    try:
        read_until(process, PROMPT)
        process.stdin.write(b"/help\n")
        process.stdin.flush()
        shown = read_until(process, PROMPT).decode()
        assert "/as NAME" in shown and "/in CHANNEL" in shown and "/quit" in shown
        for typed, meant in (("stat", "stats"), ("tops", "top")):
            process.stdin.write(f"/kudos {typed}\n".encode())
            process.stdin.flush()
            shown = read_until(process, PROMPT).decode()
            assert f"Did you mean `/kudos {meant}`?" in shown, shown
        process.stdin.write(b"/quit\n")
        process.stdin.flush()
        process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 0


def test_on_a_terminal_markup_shows_as_what_it_means(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(ROOT / "app.yaml"), "console"],
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
        preexec_fn=_as_from_a_terminal,
    )
    os.close(terminal)
    screen = io.FileIO(controller, "r+", closefd=True)
    try:

        def until_prompt() -> str:
            seen = b""
            while not seen.endswith(PROMPT):
                seen += screen.read(1) or b""
            return seen.decode()

        until_prompt()
        screen.write(b"/kudos tops\n")
        shown = until_prompt()
        assert "Did you mean \x1b[36m/kudos top\x1b[39m?" in shown
        assert "`" not in shown
        screen.write(b"/kudos help\n")
        shown = until_prompt()
        assert "== \x1b[1mKudos & Pulse — how to give kudos\x1b[22m ==" in shown
        screen.write(b"/quit\n")
        assert process.wait(timeout=15) == 0
    finally:
        process.kill()
        screen.close()
