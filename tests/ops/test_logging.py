"""Log lines through the real setup: JSON or text, ids carried, and no secret or answer in them."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from bot.messages import Reply
from bot.ops import logcontext, logsetup
from bot.ops.config import Config, PulseSettings, SlackSettings, TeamsSettings
from bot.people.actor import Caller
from tests.conftest import ROOT, ConsoleHarness, make_config

SLACK_BOT_TOKEN = "xoxb-2210-5531-Gq8xTzX1vLw9"
SLACK_APP_TOKEN = "xapp-1-A0B1C2-3344-9f8e7d6c5b4a"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CLIENT_SECRET = "c1i3nt-s3cr3t-0f-the-app-42"
APP_PASSWORD = "Wq~8Q~pLk.Zz1_hYt3aBcDeFgHiJkLmNo"
PULSE_SECRET = "pulse-hash-key-5d41402abc4b2a76"
DB_PASSWORD = "Db-pA55w0rd!x"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib3QifQ.c2lnbmF0dXJlLXBhcnQ"
UNKNOWN_TOKEN = "xoxp-9999-8888-notInConfig"
SECRETS = (
    SLACK_BOT_TOKEN,
    SLACK_APP_TOKEN,
    SIGNING_SECRET,
    CLIENT_SECRET,
    APP_PASSWORD,
    PULSE_SECRET,
    DB_PASSWORD,
    JWT,
    UNKNOWN_TOKEN,
)


def _config() -> Config:
    return make_config(
        database_url=f"postgresql+asyncpg://kudos:{DB_PASSWORD}@db.internal:5432/kudos",
        slack=SlackSettings(
            bot_token=SLACK_BOT_TOKEN,
            app_token=SLACK_APP_TOKEN,
            signing_secret=SIGNING_SECRET,
            client_id="1234.5678",
            client_secret=CLIENT_SECRET,
        ),
        teams=TeamsSettings(
            app_id="00000000-aaaa-bbbb-cccc-000000000000", app_password=APP_PASSWORD
        ),
        pulses=PulseSettings(secret=PULSE_SECRET),
    )


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    chatty = {name: logging.getLogger(name).level for name in logsetup.CHATTY}
    stream = io.StringIO()
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in chatty.items():
        logging.getLogger(name).setLevel(level)


def _log_every_secret(config: Config) -> None:
    log = logging.getLogger("kudos_pulse.test")
    log.info("slack bot token %s and app token %s", config.slack.bot_token, config.slack.app_token)
    log.info("signing secret is %s", config.slack.signing_secret)
    log.warning("oauth: client_id=1234.5678&client_secret=%s", config.slack.client_secret)
    log.info("teams login with password %r", config.teams.app_password)
    log.info("pulse key %s", config.pulses.secret)
    log.info("connecting to %s", config.database_url)
    log.debug("calling connector with Authorization: Bearer %s", JWT)
    log.debug("a token nobody configured: %s", UNKNOWN_TOKEN)
    log.debug("headers %s", {"Authorization": f"Bearer {SLACK_BOT_TOKEN}"})
    try:
        raise RuntimeError(f"auth.test refused {SLACK_BOT_TOKEN} (secret {CLIENT_SECRET})")
    except RuntimeError:
        log.exception("slack check failed")


def test_json_lines_carry_ids_and_no_secret(captured: io.StringIO) -> None:
    config = _config()
    logsetup.configure(config, level="DEBUG", log_format="json", stream=captured)
    with logcontext.bind(request_id="req-42", event_id="Ev0123"):
        _log_every_secret(config)

    output = captured.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 10
    for entry in lines:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert entry["request_id"] == "req-42"
        assert entry["event_id"] == "Ev0123"
        assert entry["logger"] == "kudos_pulse.test"
    assert lines[0]["message"] == "slack bot token [redacted] and app token [redacted]"
    assert (
        lines[5]["message"]
        == "connecting to postgresql+asyncpg://kudos:[redacted]@db.internal:5432/kudos"
    )
    assert "RuntimeError: auth.test refused [redacted]" in lines[-1]["exception"]
    for secret in SECRETS:
        assert secret not in output


def test_text_lines_are_readable_and_redacted(captured: io.StringIO) -> None:
    config = _config()
    logsetup.configure(config, level="DEBUG", log_format=None, stream=captured)
    with logcontext.bind(request_id="req-7"):
        _log_every_secret(config)

    output = captured.getvalue()
    first = output.splitlines()[0]
    assert (
        " INFO kudos_pulse.test: slack bot token [redacted] and app token [redacted] [request_id=req-7]"
        in first
    )
    assert "Traceback (most recent call last)" in output
    for secret in SECRETS:
        assert secret not in output


async def test_pulse_answers_never_reach_a_log_line(
    captured: io.StringIO, console: ConsoleHarness
) -> None:
    """A form handler that logs what it got and then fails: neither the comment nor the ratings
    appear, not even in the traceback of the failure."""
    comment = "my manager ignores every estimate we give"
    logsetup.configure(_config(), level="DEBUG", log_format="json", stream=captured)
    log = logging.getLogger("bot.pulses.test")

    async def careless(
        caller: Caller, values: Mapping[str, object], context: Mapping[str, str], key: str | None
    ) -> Reply:
        log.debug("answer %s for round %s", dict(values), context.get("round"))
        log.info("payload=%s", "%7B%22comment%22%3A%22my+manager%22%7D")
        raise ValueError(f"cannot store comment={values['comment']!r} easy={values['easy']}")

    console.app.core.register_form("pulse.answer", careless)
    reply = await console.app.core.submit_form(
        console.chat.actor,
        "pulse.answer",
        {"easy": 2, "value": "4", "comment": comment},
        context={"round": "17"},
        dedupe_key="U1-1700000000.1",
    )
    assert not reply.ok
    output = captured.getvalue()
    entries = [json.loads(line) for line in output.splitlines()]
    answer = next(entry for entry in entries if entry["message"].startswith("answer "))
    assert answer["message"] == (
        "answer {'easy': [redacted], 'value': '[redacted]', 'comment': '[redacted]'} for round 17"
    )
    assert comment not in output
    assert "my+manager" not in output
    assert "easy=2" not in output and "'easy': 2" not in output
    failure = next(entry for entry in entries if entry["message"].startswith("command failed"))
    assert "cannot store comment='[redacted]' easy=[redacted]" in failure["exception"]


def test_the_cli_logs_json_lines_when_asked(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LOG_FORMAT": "json",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kudos.db'}",
        "KUDOS_PULSE_CONFIG": str(ROOT / "app.yaml"),
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--log-level", "DEBUG", "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    assert lines, "migrate logs what it does"
    assert any(line["logger"].startswith("alembic") for line in lines)
    assert SLACK_BOT_TOKEN not in result.stderr
    # SQL and its parameters stay out of the log even at DEBUG.
    assert not any(line["logger"].startswith("sqlalchemy") for line in lines)
