"""SQLModel tables. Every time is aware UTC in code and naive UTC in the database."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class Workspace(SQLModel, table=True):
    """One Slack workspace, Teams tenant or the local console."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_workspace_platform"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    external_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    created_at: datetime = _utc()


class Person(SQLModel, table=True):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id", name="uq_person_external"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    external_id: str = Field(max_length=128)
    display_name: str = Field(default="", max_length=200)
    timezone: str | None = Field(default=None, max_length=64)
    is_bot: bool = False
    is_platform_admin: bool = False
    # Of another organisation than the workspace's (Slack Connect): never thanked or counted.
    is_external: bool = False
    # HMAC of the address the platform gave (key outside the database): erasure by email.
    email_tag: str | None = Field(default=None, max_length=64, index=True)
    refreshed_at: datetime = _utc()
    forgotten_at: datetime | None = _utc(default=None)


class Team(SQLModel, table=True):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_team_name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id")
    name: str = Field(max_length=64)
    lead_id: int | None = Field(default=None, foreign_key="people.id")
    channel_id: str | None = Field(default=None, max_length=128)
    created_at: datetime = _utc()


class TeamMember(SQLModel, table=True):
    __tablename__ = "team_members"

    team_id: int = Field(foreign_key="teams.id", primary_key=True)
    person_id: int = Field(foreign_key="people.id", primary_key=True, index=True)


class Recognition(SQLModel, table=True):
    __tablename__ = "recognitions"
    __table_args__ = (
        Index("ix_recognition_giver_day", "giver_id", "giver_day"),
        Index("ix_recognition_workspace_time", "workspace_id", "created_at"),
        Index("ix_recognition_source", "workspace_id", "source", "source_ref"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id")
    giver_id: int = Field(foreign_key="people.id")
    reason: str = Field(sa_column=Column(Text, nullable=False))
    channel_id: str | None = Field(default=None, max_length=128)
    source: str = Field(default="command", max_length=16)
    # Platform reference of the source (e.g. "C123:1700000000.000100" for a reaction).
    source_ref: str | None = Field(default=None, max_length=200)
    # Unique key of the platform event that created it, so a retried event stores nothing.
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = _utc()
    # The giver's local calendar day; the daily allowance counts per this day.
    giver_day: date
    revoked_at: datetime | None = _utc(default=None)


class RecognitionRecipient(SQLModel, table=True):
    __tablename__ = "recognition_recipients"
    __table_args__ = (
        Index("ix_recipient_workspace_time", "workspace_id", "created_at", "recipient_id"),
        Index("ix_recipient_person_time", "recipient_id", "created_at"),
    )

    recognition_id: int = Field(foreign_key="recognitions.id", primary_key=True)
    recipient_id: int = Field(foreign_key="people.id", primary_key=True)
    # Copies of the recognition's immutable facts so leaderboards need no join to filter.
    workspace_id: int = Field(foreign_key="workspaces.id")
    created_at: datetime = _utc()


class RecognitionTag(SQLModel, table=True):
    __tablename__ = "recognition_tags"

    recognition_id: int = Field(foreign_key="recognitions.id", primary_key=True)
    tag: str = Field(max_length=32, primary_key=True)


class OutboxItem(SQLModel, table=True):
    """One message waiting to be (or already) delivered to one place."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id")
    platform: str = Field(max_length=16)
    # What produced it and for whom, unique so a repeated fan-out enqueues nothing new.
    dedupe_key: str = Field(max_length=200, unique=True)
    message: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    not_before: datetime = _utc()
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = _utc(default=None)
    created_at: datetime = _utc()
    sent_at: datetime | None = _utc(default=None)
    platform_ref: str | None = Field(default=None, max_length=200)
    last_error: str | None = Field(default=None, max_length=500)
    # Set while an earlier try may have been delivered (its outcome was never learned): when
    # that try began. The next try looks for it from then on before sending again.
    in_doubt_since: datetime | None = _utc(default=None)


class ProcessedEvent(SQLModel, table=True):
    """Platform events and interactions already handled (cross-process dedupe)."""

    __tablename__ = "processed_events"

    key: str = Field(primary_key=True, max_length=255)
    seen_at: datetime = _utc(index=True)


class InboxItem(SQLModel, table=True):
    """A platform request the bot acknowledged and has yet to (or did) act on.

    Written right after the acknowledgement, so the work behind it survives a restart and can
    be done by another process; `key` (the platform's event, command or action id) is unique,
    so a redelivered request is dropped at the door. The payload is cleared once handled."""

    __tablename__ = "inbox"
    __table_args__ = (Index("ix_inbox_due", "status", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=40)
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    available_at: datetime = _utc()
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = _utc(default=None)
    accepted_at: datetime = _utc()
    finished_at: datetime | None = _utc(default=None, index=True)
    last_error: str | None = Field(default=None, max_length=500)


class SlackInstallation(SQLModel, table=True):
    __tablename__ = "slack_installations"
    __table_args__ = (
        Index("ix_slack_install_lookup", "client_id", "enterprise_id", "team_id", "installed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64)
    enterprise_id: str = Field(default="", max_length=64)
    team_id: str = Field(default="", max_length=64)
    user_id: str = Field(default="", max_length=64)
    is_enterprise_install: bool = False
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    installed_at: datetime = _utc()


class SlackOAuthState(SQLModel, table=True):
    __tablename__ = "slack_oauth_states"

    state: str = Field(primary_key=True, max_length=200)
    expires_at: datetime = _utc()


class TeamsConversationRef(SQLModel, table=True):
    """A stored Bot Framework conversation reference, for proactive messages."""

    __tablename__ = "teams_conversation_refs"
    __table_args__ = (UniqueConstraint("workspace_id", "scope", "key", name="uq_teams_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id")
    scope: str = Field(max_length=16)  # "user" or "channel"
    key: str = Field(max_length=255)
    reference: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc()


class AppSetting(SQLModel, table=True):
    """Values the bot generates once and shares between processes (e.g. the pulse hash key)."""

    __tablename__ = "app_settings"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(sa_column=Column(Text, nullable=False))


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int | None = Field(default=None, foreign_key="workspaces.id")
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_at: datetime = _utc(index=True)


# --- digests ---


class DigestSchedule(SQLModel, table=True):
    """When a team's lead gets the weekly digest. One row per team; cancelling keeps the row
    (and its id) so rescheduling the team reuses it."""

    __tablename__ = "digest_schedules"
    __table_args__ = (
        UniqueConstraint("team_id", name="uq_digest_schedule_team"),
        Index("ix_digest_schedule_due", "active", "next_fire_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id")
    team_id: int = Field(foreign_key="teams.id")
    weekday: str = Field(max_length=3)  # mon … sun
    time: str = Field(max_length=5)  # HH:MM, local to `timezone`
    timezone: str = Field(max_length=64)
    active: bool = True
    next_fire_at: datetime = _utc()
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = _utc()


class DigestRun(SQLModel, table=True):
    """One digest sent for one team and one period; the unique key makes every process that
    fires the same schedule agree that it was sent once."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("team_id", "period", name="uq_digest_run_period"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id")
    team_id: int = Field(foreign_key="teams.id")
    period: str = Field(max_length=16)  # ISO week of the firing in the schedule's zone
    scheduled_for: datetime = _utc()
    outbox_key: str = Field(max_length=200)
    created_at: datetime = _utc()


# Kudos *given* by a team's members in a window: the digest's aggregates need this one.
Index(
    "ix_recognition_giver_time",
    Recognition.__table__.c.giver_id,  # type: ignore[attr-defined]
    Recognition.__table__.c.created_at,  # type: ignore[attr-defined]
)


# --- pulses ---


class PulseSchedule(SQLModel, table=True):
    """A recurring (or one-off) pulse; `next_fire_at` is the source of truth for firing."""

    __tablename__ = "pulse_schedules"
    __table_args__ = (Index("ix_pulse_schedule_due", "status", "next_fire_at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    owner_id: int = Field(foreign_key="people.id")
    subject: str = Field(max_length=200)
    # {"kind": "channel", "channel_id": …} | {"kind": "team", "team_id": …} | {"kind": "users", …}
    audience: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # Standard 5-field crontab (day-of-week 0/7 = Sunday); None for a one-off pulse.
    cron: str | None = Field(default=None, max_length=100)
    timezone: str = Field(max_length=64)
    open_minutes: int
    status: str = Field(default="active", max_length=16)  # active, paused, cancelled, done
    next_fire_at: datetime | None = _utc(default=None)
    created_at: datetime = _utc()


class PulseRound(SQLModel, table=True):
    """One firing of a schedule; unique per (schedule, scheduled time) across processes."""

    __tablename__ = "pulse_rounds"
    __table_args__ = (
        UniqueConstraint("schedule_id", "scheduled_for", name="uq_pulse_round_firing"),
        Index("ix_pulse_round_open", "closed", "closes_at"),
        Index("ix_pulse_round_remind", "reminded", "remind_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: int = Field(foreign_key="pulse_schedules.id")
    workspace_id: int = Field(foreign_key="workspaces.id", index=True)
    # The team the audience named, if any (its lead gets the results; digests read it).
    team_id: int | None = Field(default=None, foreign_key="teams.id", index=True)
    subject: str = Field(max_length=200)
    scheduled_for: datetime = _utc()
    closes_at: datetime = _utc()
    remind_at: datetime | None = _utc(default=None)
    reminded: bool = False
    closed: bool = False
    invited: int = 0
    # Set when the round closes (docs/PRIVACY.md): how many answered, the answers as a 5×5
    # count of (EASY, VALUE) pairs, and the visibility gate's verdict. No answer is kept.
    responded: int | None = None
    tally: list[list[int]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    scores_shown: bool | None = None
    comments_shown: bool | None = None
    hidden_reason: str | None = Field(default=None, max_length=200)


class PulseDelivery(SQLModel, table=True):
    """Who was asked — never whether, what or when they answered."""

    __tablename__ = "pulse_deliveries"

    round_id: int = Field(foreign_key="pulse_rounds.id", primary_key=True)
    person_id: int = Field(foreign_key="people.id", primary_key=True, index=True)


class PulseBallot(SQLModel, table=True):
    """One sealed bucket of an open round's answers (bot/pulses/ballot.py); deleted at close."""

    __tablename__ = "pulse_ballots"

    round_id: int = Field(foreign_key="pulse_rounds.id", primary_key=True)
    bucket: int = Field(primary_key=True)
    sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class PulseComment(SQLModel, table=True):
    """A closed round's comments, stored in a random order that `position` keeps."""

    __tablename__ = "pulse_comments"

    round_id: int = Field(foreign_key="pulse_rounds.id", primary_key=True)
    position: int = Field(primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))


class ChartImage(SQLModel, table=True):
    """A drawn chart a Teams card shows by URL, served by GET /charts/<token>.png until it
    expires. In the database, not a directory, so every process against one database can
    serve what any worker drew. Holds only what the chart shows: gated aggregates."""

    __tablename__ = "chart_images"

    id: str = Field(primary_key=True, max_length=64)
    png: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _utc()
    expires_at: datetime = _utc(index=True)
