"""`kudos-pulse check`: one line per check with a verdict; any FAIL makes the exit code 1.

Credentials are checked by asking the platform, with plain HTTP (no platform SDK in `bot/`):
Slack's `auth.test` with the bot token, and a client-credentials token request to Microsoft's
login endpoint with the Teams app id and password.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.ops import credentials
from bot.ops.config import Config

TIMEOUT = aiohttp.ClientTimeout(total=10)
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT_AUTHORITY = "botframework.com"


@dataclass(frozen=True)
class Verdict:
    state: str  # "ok", "warn", "note", "FAIL" or "skip"
    text: str

    def line(self) -> str:
        return f"{self.state:<5} {self.text}"


# Slack does not let a bot token read its own app's settings, so this is said, not checked.
SLACK_HOME_NOTE = Verdict(
    "note",
    "slack: the Home tab needs home_tab_enabled and the app_home_opened event; an app set up "
    "before them must re-apply `kudos-pulse manifest slack` (no new scope, no reinstall)",
)


async def run(config: Config, out: Callable[[str], None] = print) -> int:
    verdicts = [Verdict("ok", "configuration is valid")]
    verdicts += await database(config)
    async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
        verdicts.append(await slack(config, http))
        verdicts.append(await teams(config, http))
    verdicts.append(admins(config))
    if config.slack_enabled:
        verdicts.append(SLACK_HOME_NOTE)
    verdicts.append(await pulse_key(config))
    for verdict in verdicts:
        out(verdict.line())
    return 1 if any(verdict.state == "FAIL" for verdict in verdicts) else 0


async def database(config: Config) -> list[Verdict]:
    from storage import migrate
    from storage.db import Database, missing_file

    missing = missing_file(config.database_url)
    if missing is not None:  # opening it would create it: a check changes nothing
        return [
            Verdict(
                "FAIL",
                f"database schema is behind — run `kudos-pulse migrate` ({missing} does not "
                "exist yet)",
            )
        ]
    db = Database(config.database_url)
    try:
        await db.ping()
        found = [Verdict("ok", f"database reachable ({db.backend})")]
        if await migrate.is_current(db):
            found.append(Verdict("ok", "database schema is current"))
        else:
            found.append(Verdict("FAIL", "database schema is behind — run `kudos-pulse migrate`"))
        return found
    except Exception as error:
        return [Verdict("FAIL", f"database unreachable: {type(error).__name__}: {error}")]
    finally:
        await db.dispose()


async def pulse_key(config: Config) -> Verdict:
    """Where the pulse key comes from, and whether the database was first used with it."""
    from bot.ops.keys import FINGERPRINT_SETTING, KeyProblem, load_keyring, mismatch_message
    from storage.db import Database, missing_file
    from storage.repositories import settings

    try:
        keyring = load_keyring(config, create=False)
    except KeyProblem as problem:
        keyring, missing = None, problem
    stored = None  # no database file yet: no fingerprint, and opening it would create it
    if missing_file(config.database_url) is None:
        db = Database(config.database_url)
        try:
            async with db.read() as session:
                stored = await settings.find(session, FINGERPRINT_SETTING)
        except Exception:
            stored = None  # the database check above already says what is wrong with it
        finally:
            await db.dispose()
    if keyring is None:
        if stored is not None:  # another process already seals answers with its key
            return Verdict("FAIL", f"pulse key: {missing} This database already uses one.")
        return Verdict(
            "skip", f"pulse key: none yet; the first `run` creates {config.pulses.key_file}"
        )
    if stored is not None and stored != keyring.fingerprint:
        return Verdict("FAIL", f"pulse key: {mismatch_message(keyring, stored)}")
    return Verdict(
        "ok", f"pulse key from {keyring.source} (fingerprint {keyring.fingerprint})"
    )


def admins(config: Config) -> Verdict:
    """Whether `admins:` says where each admin is one (see bot/people/actor.py)."""
    if isinstance(config.admins, dict):
        people = sum(len(entries) for entries in config.admins.values())
        return Verdict("ok", f"admins: {people} listed across {len(config.admins)} workspace(s)")
    several = [
        name
        for name, possible in (
            ("slack", config.slack_enabled and bool(config.slack.client_id)),
            ("teams", config.teams_enabled and config.teams.app_type != "SingleTenant"),
        )
        if possible
    ]
    if config.admins and several:
        return Verdict(
            "warn",
            "admins: a plain list applies only in the first workspace of each platform the "
            f"bot came to know, and {' and '.join(several)} may be installed in several — in "
            "the others it makes nobody an admin. Key it by workspace: "
            "admins: {T0123ABC: [U0456DEF]}",
        )
    return Verdict("ok", f"admins: {len(config.admins)} listed (a single workspace)")


async def slack(config: Config, http: aiohttp.ClientSession) -> Verdict:
    settings = config.slack
    problem = credentials.slack_problem(config)
    if problem:
        return Verdict("FAIL", problem)
    if not config.slack_enabled:
        return Verdict("skip", "slack: not configured")
    if not settings.bot_token:
        if not settings.install_allowlist:
            return Verdict(
                "warn",
                "slack: OAuth install mode and no slack.install_allowlist — any Slack "
                "workspace that finds /slack/install can install this bot; list your "
                "workspace (T…) or Grid org (E…) ids to allow only them",
            )
        return Verdict(
            "skip",
            "slack: OAuth install mode — each workspace's token is checked when it installs "
            f"(installs allowed from {', '.join(settings.install_allowlist)})",
        )
    url = settings.api_url.rstrip("/") + "/auth.test"
    try:
        async with http.post(
            url, headers={"Authorization": f"Bearer {settings.bot_token}"}
        ) as response:
            body: dict[str, Any] = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return Verdict("FAIL", f"slack: auth.test at {url} failed: {type(error).__name__} {error}")
    if not body.get("ok"):
        return Verdict("FAIL", f"slack: auth.test refused the bot token: {body.get('error')}")
    return Verdict(
        "ok",
        f"slack: bot token accepted (workspace {body.get('team')!s} {body.get('team_id')!s}, "
        f"bot user {body.get('user')!s})",
    )


async def teams(config: Config, http: aiohttp.ClientSession) -> Verdict:
    settings = config.teams
    problem = credentials.teams_problem(config)
    if problem:
        return Verdict("FAIL", problem)
    if not config.teams_enabled:
        return Verdict("skip", "teams: not configured")
    if settings.app_type == "UserAssignedMSI":
        return Verdict("skip", "teams: managed identity — tokens exist only inside Azure")
    if not settings.app_password:
        return Verdict("FAIL", "teams: MICROSOFT_APP_PASSWORD is missing")
    if settings.app_type == "SingleTenant" and not settings.app_tenant_id:
        return Verdict("FAIL", "teams: SingleTenant needs MICROSOFT_APP_TENANT_ID")
    single = settings.app_type == "SingleTenant"
    authority = settings.app_tenant_id if single else MULTI_TENANT_AUTHORITY
    url = f"{settings.login_url.rstrip('/')}/{authority}/oauth2/v2.0/token"
    form = {
        "grant_type": "client_credentials",
        "client_id": settings.app_id or "",
        "client_secret": settings.app_password,
        "scope": BOT_FRAMEWORK_SCOPE,
    }
    try:
        async with http.post(url, data=form) as response:
            body: dict[str, Any] = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        return Verdict("FAIL", f"teams: token request to {url} failed: {type(error).__name__}")
    if status != 200 or not body.get("access_token"):
        reason = str(body.get("error_description") or body.get("error") or f"HTTP {status}")
        return Verdict("FAIL", f"teams: no token for app {settings.app_id}: {reason[:200]}")
    return Verdict("ok", f"teams: token acquired for app {settings.app_id}")
