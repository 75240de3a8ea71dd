"""Load and validate app.yaml, expand ${VAR} references and apply environment overrides."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kudos_pulse.db"
DEFAULT_PORT = 3978
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ConfigError(Exception):
    """Configuration that cannot be used; the message names the key and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Award(_Section):
    tag: str
    label: str
    emoji: str = ""

    @field_validator("tag")
    @classmethod
    def _tag_shape(cls, value: str) -> str:
        value = value.lstrip("#").lower()
        if not _TAG.match(value):
            raise ValueError("a tag is 1-32 letters, digits, '-' or '_'")
        return value


def _default_awards() -> list[Award]:
    return [
        Award(tag="easy", label="Made it EASY", emoji="⚡"),
        Award(tag="value", label="Added VALUE", emoji="💎"),
    ]


CelebrateMode = Literal["here", "channel", "thread", "nowhere"]


class KudosSettings(_Section):
    awards: list[Award] = Field(default_factory=_default_awards, min_length=1)
    allowance: int = Field(default=5, ge=1, le=1000)
    channel: str | None = None
    # Where celebrations are posted: "here" (the channel the kudos was given in), "channel"
    # (always `channel`), "thread" (replies under one post a day in `channel`) or "nowhere".
    # Unset: "channel" when `channel` is set, else "here".
    # Admins may change it in chat (/kudos settings), which wins over this file.
    celebrate: CelebrateMode | None = None
    # Whether recipients get a DM (each person can still turn theirs off: /kudos notify off).
    dms: bool = True
    reaction: str = "clap"
    leaderboard: bool = True
    max_reason_length: int = Field(default=1000, ge=10, le=3000)
    min_reason_words: int = Field(default=2, ge=1, le=20)
    undo_minutes: int = Field(default=15, ge=1, le=1440)

    @field_validator("reaction")
    @classmethod
    def _reaction_name(cls, value: str) -> str:
        return value.strip(":")

    @model_validator(mode="after")
    def _fixed_channel_named(self) -> KudosSettings:
        if self.celebrate in ("channel", "thread") and not self.channel:
            raise ValueError(f"celebrate: {self.celebrate} needs kudos.channel (the channel id)")
        return self

    @property
    def celebrate_mode(self) -> CelebrateMode:
        return self.celebrate or ("channel" if self.channel else "here")

    @model_validator(mode="after")
    def _unique_tags(self) -> KudosSettings:
        tags = [award.tag for award in self.awards]
        if len(tags) != len(set(tags)):
            raise ValueError("awards: every tag must be unique")
        return self

    def award(self, tag: str) -> Award | None:
        return next((award for award in self.awards if award.tag == tag), None)


class PulseSettings(_Section):
    open_hours: float = Field(default=48, gt=0, le=24 * 30)
    reminder: bool = True
    reminder_hours_before_close: float = Field(default=4, gt=0)
    min_responses: int = Field(default=5)
    # Comments need more answers than scores: a comment's wording can give its author away.
    min_comment_responses: int = Field(default=8)
    secret: str | None = None
    # Where the pulse key lives when KUDOS_PULSE_SECRET is not set: outside the database,
    # created on first run, owner-only (docs/PRIVACY.md).
    key_file: str = "~/.config/kudos-pulse/pulse.key"

    @field_validator("min_responses")
    @classmethod
    def _never_below_three(cls, value: int) -> int:
        if value < 3:
            raise ValueError("must be at least 3 (anonymity would be at risk below that)")
        return value

    @model_validator(mode="after")
    def _comments_need_more(self) -> PulseSettings:
        if self.min_comment_responses < self.min_responses:
            raise ValueError("min_comment_responses must be at least min_responses")
        return self


class DigestSettings(_Section):
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "fri"
    time: str = "16:00"
    quiet_member_days: int = Field(default=30, ge=1, le=365)
    # A week with no kudos, no pulse round and no quiet member sends no digest; a lead may
    # still ask for every week (/digest empty-weeks send team:NAME).
    skip_empty_weeks: bool = True

    @field_validator("time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("must be a time like 16:00")
        return value


class QuietHours(_Section):
    start: str = "20:00"
    end: str = "08:00"
    enabled: bool = False

    @field_validator("start", "end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError("must be a time like 20:00")
        return value


class OutboxSettings(_Section):
    slack_per_second: float = Field(default=5, gt=0, le=1000)
    teams_per_second: float = Field(default=40, gt=0, le=1000)
    console_per_second: float = Field(default=1000, gt=0)
    max_attempts: int = Field(default=8, ge=1, le=100)
    # A claimed message not settled within this time is taken over by another worker.
    lease_seconds: float = Field(default=60, gt=0, le=3600)


class SlackSettings(_Section):
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = "https://slack.com/api/"
    # Who may install through the public /slack/install: Slack workspace (team, T…) and
    # Enterprise Grid org (E…) ids. Empty: anyone who finds the page (warned by `check`).
    install_allowlist: list[str] = Field(default_factory=list)

    @field_validator("install_allowlist")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        return [entry.strip().upper() for entry in value if entry and entry.strip()]
    # How long one Web API call may take; a post cut off by it may still have arrived, so the
    # outbox checks the conversation before posting again.
    api_timeout_seconds: float = Field(default=30.0, gt=0, le=300)


class TeamsSettings(_Section):
    app_id: str | None = None
    app_password: str | None = None
    app_tenant_id: str | None = None
    app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] = "MultiTenant"
    # Where app tokens come from (Microsoft Entra ID); overridable for tests and sovereign clouds.
    login_url: str = "https://login.microsoftonline.com/"
    # Where the keys that sign the Bot Framework's requests are published (same reasons).
    openid_metadata_url: str = "https://login.botframework.com/v1/.well-known/openidconfiguration"
    # The Teams package's privacyUrl / termsOfUseUrl; unset: the bot's own simple pages
    # (/privacy, /terms) under `public_url`.
    privacy_url: str | None = None
    terms_url: str | None = None


class Config(_Section):
    bot_name: str = "Kudos & Pulse"
    default_timezone: str = "UTC"
    # Who is an admin beyond the platform's own admins: user ids keyed by workspace id
    # ({T123: [U1], <tenant id>: [29:…]}), or a plain list, which applies only in the first
    # workspace of each platform the bot came to know (see bot/people/actor.py).
    admins: list[str] | dict[str, list[str]] = Field(default_factory=list)
    database_url: str = DEFAULT_DATABASE_URL
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    # The address the web server listens on; e.g. 127.0.0.1 behind a local reverse proxy.
    host: str = "0.0.0.0"
    # When set, GET /metrics answers only requests with `Authorization: Bearer <token>`.
    metrics_token: str | None = None
    public_url: str | None = None
    # Worker processes `run` starts beside the one that answers Slack and Teams. "auto": one on
    # PostgreSQL, so acknowledgements never share a CPU with the core's work; none on SQLite,
    # whose single writer makes two processes wait on each other's locks (docs/PERFORMANCE.md).
    workers: int | Literal["auto"] = "auto"
    # "background": worker processes take only CPU no acknowledgement wants (SCHED_IDLE);
    # "normal": they compete as equals (e.g. on a machine shared with busier services).
    worker_priority: Literal["background", "normal"] = "background"
    kudos: KudosSettings = Field(default_factory=KudosSettings)
    pulses: PulseSettings = Field(default_factory=PulseSettings)
    digests: DigestSettings = Field(default_factory=DigestSettings)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name like Europe/Berlin)"
            ) from None
        return value

    @property
    def slack_enabled(self) -> bool:
        has_token = bool(self.slack.bot_token) or bool(
            self.slack.client_id and self.slack.client_secret
        )
        return has_token and bool(self.slack.signing_secret or self.slack.app_token)

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams.app_id)

    @field_validator("workers")
    @classmethod
    def _workers_in_range(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 0 <= value <= 32:
            raise ValueError("workers must be between 0 and 32, or auto")
        return value


# Environment variable → dotted config key. The environment wins over app.yaml.
ENV_OVERRIDES: dict[str, str] = {
    "DATABASE_URL": "database_url",
    "PORT": "port",
    "HOST": "host",
    "METRICS_TOKEN": "metrics_token",
    "WORKERS": "workers",
    "WORKER_PRIORITY": "worker_priority",
    "SLACK_BOT_TOKEN": "slack.bot_token",
    "SLACK_SIGNING_SECRET": "slack.signing_secret",
    "SLACK_APP_TOKEN": "slack.app_token",
    "SLACK_CLIENT_ID": "slack.client_id",
    "SLACK_CLIENT_SECRET": "slack.client_secret",
    "SLACK_API_URL": "slack.api_url",
    "MICROSOFT_APP_ID": "teams.app_id",
    "MICROSOFT_APP_PASSWORD": "teams.app_password",
    "MICROSOFT_APP_TENANT_ID": "teams.app_tenant_id",
    "MICROSOFT_APP_TYPE": "teams.app_type",
    "MICROSOFT_LOGIN_URL": "teams.login_url",
    "MICROSOFT_OPENID_METADATA_URL": "teams.openid_metadata_url",
    "TEAMS_PRIVACY_URL": "teams.privacy_url",
    "TEAMS_TERMS_URL": "teams.terms_url",
    "KUDOS_PULSE_SECRET": "pulses.secret",
    "KUDOS_PULSE_KEY_FILE": "pulses.key_file",
}


def _expand(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _VAR.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, list):
        return [_expand(item, env) for item in value]
    if isinstance(value, dict):
        return {key: _expand(item, env) for key, item in value.items()}
    return value


def _blank_to_none(value: Any) -> Any:
    """`${UNSET_VAR}` expands to "", which means "not configured" for optional settings."""
    if isinstance(value, dict):
        return {key: _blank_to_none(item) for key, item in value.items() if item != ""}
    if isinstance(value, list):
        return [_blank_to_none(item) for item in value]
    return value


def _set_dotted(data: dict[str, Any], dotted: str, value: str) -> None:
    *parents, leaf = dotted.split(".")
    node = data
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[leaf] = value


def _describe(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        problem = "unknown key (check the spelling)"
    else:
        problem = first["msg"].removeprefix("Value error, ")
        if "input" in first and not isinstance(first["input"], dict | list):
            problem += f" (got {first['input']!r})"
    more = len(error.errors()) - 1
    suffix = f" [and {more} more problem{'s' if more > 1 else ''}]" if more else ""
    return f"{source}: {key}: {problem}{suffix}"


def default_config_path(env: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    if env.get("KUDOS_PULSE_CONFIG"):
        return Path(env["KUDOS_PULSE_CONFIG"])
    local = Path("app.yaml")
    return local if local.exists() else None


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read app.yaml (if any), expand ${VAR}, apply env overrides and validate."""
    env = os.environ if env is None else env
    path = path if path is not None else default_config_path(env)
    source = str(path) if path else "configuration"
    raw: Any = {}
    if path is not None:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ConfigError(f"{source}: file not found") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark else ""
            raise ConfigError(f"{source}: not valid YAML{where}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys")
    data = _blank_to_none(_expand(raw, env))
    for variable, dotted in ENV_OVERRIDES.items():
        if env.get(variable):
            _set_dotted(data, dotted, env[variable])
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
