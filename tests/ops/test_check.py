"""`kudos-pulse check` against loopback fakes of Slack and Microsoft: one verdict per line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.ops import checks
from bot.ops.config import load_config
from bot.ops.keys import FINGERPRINT_SETTING
from storage.db import Database
from storage.repositories import settings
from tests.harness.fakes.credentials import FakeCredentials
from tests.ops.conftest import ROOT, Cli

NOTHING_CONFIGURED = {
    "SLACK_BOT_TOKEN": "",
    "SLACK_SIGNING_SECRET": "",
    "SLACK_APP_TOKEN": "",
    "SLACK_CLIENT_ID": "",
    "SLACK_CLIENT_SECRET": "",
    "MICROSOFT_APP_ID": "",
    "MICROSOFT_APP_PASSWORD": "",
    "MICROSOFT_APP_TENANT_ID": "",
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeCredentials]:
    server = await FakeCredentials().start()
    yield server
    await server.close()


def _platforms(fake: FakeCredentials, **overrides: str) -> dict[str, str]:
    return {
        **NOTHING_CONFIGURED,
        "SLACK_BOT_TOKEN": fake.slack_token,
        "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
        "SLACK_API_URL": fake.url + "api/",
        "MICROSOFT_APP_ID": fake.app_id,
        "MICROSOFT_APP_PASSWORD": fake.app_password,
        "MICROSOFT_LOGIN_URL": fake.url,
        **overrides,
    }


async def test_everything_good(
    db: object, cli: Cli, fake: FakeCredentials, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli("check", env=_platforms(fake)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "ok    configuration is valid"
    assert lines[1].startswith("ok    database reachable")
    assert lines[2] == "ok    database schema is current"
    assert lines[3] == "ok    slack: bot token accepted (workspace Acme T0ACME, bot user kudos)"
    assert lines[4] == f"ok    teams: token acquired for app {fake.app_id}"
    # app.yaml's plain `admins:` list, with a multi-tenant Teams app configured.
    assert lines[5].startswith("warn  admins: a plain list applies only in the first workspace")
    assert "admins: {T0123ABC: [U0456DEF]}" in lines[5]
    assert lines[6].startswith("note  slack: the Home tab needs home_tab_enabled")
    token_request = next(detail for kind, detail in fake.requests if kind == "token")
    assert token_request["tenant"] == "botframework.com"
    assert token_request["scope"] == "https://api.botframework.com/.default"


async def test_bad_credentials_fail_with_the_platforms_reason(
    db: object, cli: Cli, fake: FakeCredentials, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _platforms(fake, SLACK_BOT_TOKEN="xoxb-revoked", MICROSOFT_APP_PASSWORD="wrong")
    assert await cli("check", env=env) == 1
    out = capsys.readouterr().out
    assert "FAIL  slack: auth.test refused the bot token: invalid_auth" in out
    assert (
        f"FAIL  teams: no token for app {fake.app_id}: AADSTS7000215: Invalid client secret provided."
        in out
    )
    assert "wrong" not in out and "xoxb-revoked" not in out


async def test_single_tenant_asks_its_own_tenant(
    db: object, cli: Cli, fake: FakeCredentials, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _platforms(
        fake, MICROSOFT_APP_TYPE="SingleTenant", MICROSOFT_APP_TENANT_ID="contoso-tenant"
    )
    assert await cli("check", env=env) == 0
    assert next(d for k, d in fake.requests if k == "token")["tenant"] == "contoso-tenant"
    capsys.readouterr()


async def test_unconfigured_platforms_are_skipped(
    db: object, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli("check", env=NOTHING_CONFIGURED) == 0
    out = capsys.readouterr().out.splitlines()
    assert "skip  slack: not configured" in out
    assert "skip  teams: not configured" in out


async def test_unreachable_platform_and_database_fail(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env = {
        **NOTHING_CONFIGURED,
        "SLACK_BOT_TOKEN": "xoxb-anything",
        "SLACK_SIGNING_SECRET": "0123456789abcdef0123456789abcdef",
        "SLACK_API_URL": "http://127.0.0.1:1/api/",  # nothing listens there
        "DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nothing",
    }
    assert await cli("check", env=env) == 1
    out = capsys.readouterr().out
    assert "FAIL  database unreachable" in out
    assert "FAIL  slack: auth.test at http://127.0.0.1:1/api/auth.test failed" in out


async def test_schema_behind_fails(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env = {**NOTHING_CONFIGURED, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}
    assert await cli("check", env=env) == 1
    assert "FAIL  database schema is behind — run `kudos-pulse migrate`" in capsys.readouterr().out


async def test_check_says_where_the_pulse_key_is_and_catches_another_key(
    db: Database, cli: Cli, fake: FakeCredentials, capsys: pytest.CaptureFixture[str]
) -> None:
    env = _platforms(fake, KUDOS_PULSE_SECRET="the-pulse-key-of-this-deployment-0001")
    assert await cli("check", env=env) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("ok    pulse key from KUDOS_PULSE_SECRET / pulses.secret (fingerprint ")
    assert "the-pulse-key" not in line
    # The database was first used with another key: answers sealed here could not be opened
    # by the other processes, so check fails and says what to do.
    async with db.write() as session:
        await settings.get_or_create(session, FINGERPRINT_SETTING, lambda: "0123456789abcdef")
    assert await cli("check", env=env) == 1
    out = capsys.readouterr().out
    assert "FAIL  pulse key: This database was first used with another pulse key" in out
    assert "the-pulse-key" not in out


async def test_an_open_install_page_is_warned_about_and_a_listed_one_is_not(
    db: object, cli: Cli, fake: FakeCredentials, capsys: pytest.CaptureFixture[str]
) -> None:
    oauth = _platforms(
        fake, SLACK_BOT_TOKEN="", SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="shh"
    )
    assert await cli("check", env=oauth) == 0  # a warning, not a failure
    lines = capsys.readouterr().out.splitlines()
    assert (
        "warn  slack: OAuth install mode and no slack.install_allowlist — any Slack workspace "
        "that finds /slack/install can install this bot; list your workspace (T…) or Grid org "
        "(E…) ids to allow only them"
    ) in lines

    config = load_config(ROOT / "app.yaml", env=oauth)
    listed = config.model_copy(
        update={
            "slack": config.slack.model_copy(update={"install_allowlist": ["T0ACME", "E0ORG"]})
        }
    )
    async with aiohttp.ClientSession() as http:
        verdict = await checks.slack(listed, http)
    assert verdict.state == "skip" and "installs allowed from T0ACME, E0ORG" in verdict.text
