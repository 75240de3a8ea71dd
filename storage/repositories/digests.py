"""Digest schedules, runs, and the set-based aggregates behind a team digest.

Every aggregate takes a *batch* of teams that share one window and answers for all of them in
one statement (GROUP BY team): a scheduler tick that finds 200 teams due on Friday 16:00
London time runs a handful of queries, not a handful per person or per team.
Revoked kudos never count. Counts are recipient-awards, as in /kudos stats.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select, update
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from storage.models import (
    DigestRun,
    DigestSchedule,
    Person,
    Recognition,
    RecognitionRecipient,
    RecognitionTag,
    Team,
    TeamMember,
)
from storage.repositories.sql import insert_ignore, upsert
from storage.unit import Unit

HIGHLIGHTS_PER_TEAM = 3


@dataclass(frozen=True)
class Window:
    """A digest's time frame: "this week" is [this_start, end), "last week" is
    [last_start, this_start); members not recognised in [quiet_since, end) are "quiet"."""

    end: datetime
    this_start: datetime
    last_start: datetime
    quiet_since: datetime
    zone: str


members = TeamMember.__table__  # type: ignore[attr-defined]
awards = RecognitionRecipient.__table__  # type: ignore[attr-defined]
kudos = Recognition.__table__  # type: ignore[attr-defined]
tags = RecognitionTag.__table__  # type: ignore[attr-defined]
people = Person.__table__  # type: ignore[attr-defined]


# --- schedules and runs ----------------------------------------------------------------------


async def save_schedule(
    unit: Unit,
    *,
    workspace_id: int,
    team_id: int,
    weekday: str,
    time: str,
    timezone: str,
    next_fire_at: datetime,
    created_by: str,
    now: datetime,
) -> DigestSchedule:
    """One schedule per team: scheduling again changes (and re-activates) the same row."""
    await upsert(
        unit,
        DigestSchedule,
        {
            "workspace_id": workspace_id,
            "team_id": team_id,
            "weekday": weekday,
            "time": time,
            "timezone": timezone,
            "active": True,
            "next_fire_at": next_fire_at,
            "created_by": created_by,
            "created_at": now,
        },
        conflict=("team_id",),
        update=("weekday", "time", "timezone", "active", "next_fire_at", "created_by"),
    )
    found = await schedule_for_team(unit, team_id)
    assert found is not None
    await unit.session.refresh(found)
    return found


async def schedule_for_team(unit: Unit, team_id: int) -> DigestSchedule | None:
    statement = sqlmodel_select(DigestSchedule).where(DigestSchedule.team_id == team_id)
    return (await unit.session.exec(statement)).first()


async def get_schedule(unit: Unit, workspace_id: int, schedule_id: int) -> DigestSchedule | None:
    statement = sqlmodel_select(DigestSchedule).where(
        DigestSchedule.id == schedule_id, DigestSchedule.workspace_id == workspace_id
    )
    return (await unit.session.exec(statement)).first()


async def active_schedules(
    unit: Unit, workspace_id: int, team_ids: list[int] | None = None
) -> list[tuple[DigestSchedule, Team]]:
    statement = (
        sqlmodel_select(DigestSchedule, Team)
        .join(Team, col(Team.id) == DigestSchedule.team_id)
        .where(DigestSchedule.workspace_id == workspace_id, col(DigestSchedule.active))
        .order_by(col(DigestSchedule.id))
    )
    if team_ids is not None:
        statement = statement.where(col(DigestSchedule.team_id).in_(team_ids))
    return [(schedule, team) for schedule, team in (await unit.session.exec(statement)).all()]


async def due_schedules(unit: Unit, now: datetime) -> list[DigestSchedule]:
    statement = (
        sqlmodel_select(DigestSchedule)
        .where(col(DigestSchedule.active), col(DigestSchedule.next_fire_at) <= now)
        .order_by(col(DigestSchedule.next_fire_at), col(DigestSchedule.id))
    )
    return list((await unit.session.exec(statement)).all())


async def cancel_schedule(unit: Unit, schedule_id: int) -> None:
    await unit.session.exec(
        update(DigestSchedule).where(col(DigestSchedule.id) == schedule_id).values(active=False)
    )


async def advance_schedule(
    unit: Unit, schedule_id: int, fired: datetime, next_fire_at: datetime
) -> None:
    """Move the schedule past `fired`; a no-op if another process already moved it."""
    await unit.session.exec(
        update(DigestSchedule)
        .where(col(DigestSchedule.id) == schedule_id, col(DigestSchedule.next_fire_at) == fired)
        .values(next_fire_at=next_fire_at)
    )


async def claim_run(
    unit: Unit,
    *,
    workspace_id: int,
    team_id: int,
    period: str,
    scheduled_for: datetime,
    outbox_key: str,
    now: datetime,
) -> bool:
    """True for the one process that records this team's digest for `period`."""
    return await insert_ignore(
        unit,
        DigestRun,
        {
            "workspace_id": workspace_id,
            "team_id": team_id,
            "period": period,
            "scheduled_for": scheduled_for,
            "outbox_key": outbox_key,
            "created_at": now,
        },
        ("team_id", "period"),
    )


async def run_exists(unit: Unit, team_id: int, period: str) -> bool:
    statement = select(
        exists().where(col(DigestRun.team_id) == team_id, col(DigestRun.period) == period)
    )
    return bool((await unit.session.exec(statement)).scalar())


# --- aggregates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    external_id: str
    name: str


@dataclass(frozen=True)
class Highlight:
    recognition_id: int
    giver: Member
    reason: str
    created_at: datetime
    recipients: list[Member] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass
class KudosFacts:
    """Everything a digest says about kudos for one team and one window."""

    received_this_week: int = 0
    received_last_week: int = 0
    given_this_week: int = 0
    given_last_week: int = 0
    recognised: list[tuple[Member, int]] = field(default_factory=list)
    highlights: list[Highlight] = field(default_factory=list)
    tags: list[tuple[str, int]] = field(default_factory=list)
    quiet: list[Member] = field(default_factory=list)
    member_count: int = 0


def _member(external_id: str, name: str) -> Member:
    return Member(external_id=external_id, name=name or external_id)


async def kudos_facts(unit: Unit, team_ids: list[int], window: Window) -> dict[int, KudosFacts]:
    """The kudos part of the digest for every team in `team_ids`, a fixed number of queries."""
    facts: dict[int, KudosFacts] = {team_id: KudosFacts() for team_id in team_ids}
    if not team_ids:
        return facts
    for team_id, this_week, last_week in await _rows(unit, _received(team_ids, window)):
        facts[team_id].received_this_week = int(this_week)
        facts[team_id].received_last_week = int(last_week)
    for team_id, this_week, last_week in await _rows(unit, _given(team_ids, window)):
        facts[team_id].given_this_week = int(this_week)
        facts[team_id].given_last_week = int(last_week)
    for team_id, external_id, name, n in await _rows(unit, _recognised(team_ids, window)):
        facts[team_id].recognised.append((_member(external_id, name), int(n)))
    for team_id, tag, n in await _rows(unit, _tag_counts(team_ids, window)):
        facts[team_id].tags.append((tag, int(n)))
    for team_id, external_id, name in await _rows(unit, _quiet(team_ids, window)):
        facts[team_id].quiet.append(_member(external_id, name))
    for team_id, n in await _rows(unit, _member_counts(team_ids)):
        facts[team_id].member_count = int(n)
    await _add_highlights(unit, team_ids, window, facts)
    return facts


async def _rows(unit: Unit, statement: Any) -> list[Any]:
    return list((await unit.session.exec(statement)).all())


def _live_awards_of_members(team_ids: list[int], since: datetime, until: datetime) -> Any:
    """team_members ⋈ recipient-awards ⋈ recognitions, not revoked, created in [since, until)."""
    return (
        members.join(awards, awards.c.recipient_id == members.c.person_id).join(
            kudos, kudos.c.id == awards.c.recognition_id
        ),
        and_(
            members.c.team_id.in_(team_ids),
            awards.c.created_at >= since,
            awards.c.created_at < until,
            kudos.c.revoked_at.is_(None),
        ),
    )


def _this_and_last(created_at: Any, window: Window) -> tuple[Any, Any]:
    this_week = func.sum(case((created_at >= window.this_start, 1), else_=0))
    last_week = func.sum(case((created_at < window.this_start, 1), else_=0))
    return this_week, last_week


def _received(team_ids: list[int], window: Window) -> Any:
    joined, where = _live_awards_of_members(team_ids, window.last_start, window.end)
    this_week, last_week = _this_and_last(awards.c.created_at, window)
    return (
        select(members.c.team_id, this_week, last_week)
        .select_from(joined)
        .where(where)
        .group_by(members.c.team_id)
    )


def _given(team_ids: list[int], window: Window) -> Any:
    this_week, last_week = _this_and_last(kudos.c.created_at, window)
    return (
        select(members.c.team_id, this_week, last_week)
        .select_from(
            members.join(kudos, kudos.c.giver_id == members.c.person_id).join(
                awards, awards.c.recognition_id == kudos.c.id
            )
        )
        .where(
            members.c.team_id.in_(team_ids),
            kudos.c.created_at >= window.last_start,
            kudos.c.created_at < window.end,
            kudos.c.revoked_at.is_(None),
        )
        .group_by(members.c.team_id)
    )


def _recognised(team_ids: list[int], window: Window) -> Any:
    joined, where = _live_awards_of_members(team_ids, window.this_start, window.end)
    n = func.count().label("n")
    return (
        select(members.c.team_id, people.c.external_id, people.c.display_name, n)
        .select_from(joined.join(people, people.c.id == members.c.person_id))
        .where(where)
        .group_by(members.c.team_id, people.c.external_id, people.c.display_name)
        .order_by(members.c.team_id, n.desc(), people.c.display_name, people.c.external_id)
    )


def _tag_counts(team_ids: list[int], window: Window) -> Any:
    """Kudos (not awards) the team received this week, by tag: a kudos to two members of the
    team carrying #easy counts once."""
    joined, where = _live_awards_of_members(team_ids, window.this_start, window.end)
    received = (
        select(members.c.team_id, awards.c.recognition_id)
        .select_from(joined)
        .where(where)
        .distinct()
        .subquery()
    )
    n = func.count().label("n")
    return (
        select(received.c.team_id, tags.c.tag, n)
        .select_from(received.join(tags, tags.c.recognition_id == received.c.recognition_id))
        .group_by(received.c.team_id, tags.c.tag)
        .order_by(received.c.team_id, n.desc(), tags.c.tag)
    )


def _quiet(team_ids: list[int], window: Window) -> Any:
    recognised_lately = (
        select(awards.c.recipient_id)
        .select_from(awards.join(kudos, kudos.c.id == awards.c.recognition_id))
        .where(
            awards.c.recipient_id == members.c.person_id,
            awards.c.created_at >= window.quiet_since,
            awards.c.created_at < window.end,
            kudos.c.revoked_at.is_(None),
        )
        .exists()
    )
    return (
        select(members.c.team_id, people.c.external_id, people.c.display_name)
        .select_from(members.join(people, people.c.id == members.c.person_id))
        .where(
            members.c.team_id.in_(team_ids),
            people.c.is_bot.is_(False),
            people.c.forgotten_at.is_(None),
            ~recognised_lately,
        )
        .order_by(members.c.team_id, people.c.display_name, people.c.external_id)
    )


def _member_counts(team_ids: list[int]) -> Any:
    return (
        select(members.c.team_id, func.count())
        .where(members.c.team_id.in_(team_ids))
        .group_by(members.c.team_id)
    )


def _ranked_highlights(team_ids: list[int], window: Window) -> Any:
    """Per team, this week's kudos ranked: most team members thanked, then most values
    tagged, then the newest. ROW_NUMBER keeps it one statement for all teams."""
    joined, where = _live_awards_of_members(team_ids, window.this_start, window.end)
    received = (
        select(
            members.c.team_id,
            kudos.c.id.label("recognition_id"),
            kudos.c.created_at,
            func.count().label("team_recipients"),
        )
        .select_from(joined)
        .where(where)
        .group_by(members.c.team_id, kudos.c.id, kudos.c.created_at)
        .subquery()
    )
    tag_count = (
        select(func.count())
        .where(tags.c.recognition_id == received.c.recognition_id)
        .scalar_subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=received.c.team_id,
            order_by=(
                received.c.team_recipients.desc(),
                tag_count.desc(),
                received.c.created_at.desc(),
                received.c.recognition_id.desc(),
            ),
        )
        .label("rank")
    )
    ranked = select(received.c.team_id, received.c.recognition_id, rank).subquery()
    giver = people.alias("giver")
    return (
        select(
            ranked.c.team_id,
            kudos.c.id,
            kudos.c.reason,
            kudos.c.created_at,
            giver.c.external_id,
            giver.c.display_name,
        )
        .select_from(
            ranked.join(kudos, kudos.c.id == ranked.c.recognition_id).join(
                giver, giver.c.id == kudos.c.giver_id
            )
        )
        .where(ranked.c.rank <= HIGHLIGHTS_PER_TEAM)
        .order_by(ranked.c.team_id, ranked.c.rank)
    )


async def _add_highlights(
    unit: Unit, team_ids: list[int], window: Window, facts: dict[int, KudosFacts]
) -> None:
    chosen = await _rows(unit, _ranked_highlights(team_ids, window))
    ids = sorted({row[1] for row in chosen})
    if not ids:
        return
    recipients: dict[int, list[Member]] = defaultdict(list)
    statement = (
        select(awards.c.recognition_id, people.c.external_id, people.c.display_name)
        .select_from(awards.join(people, people.c.id == awards.c.recipient_id))
        .where(awards.c.recognition_id.in_(ids))
        .order_by(awards.c.recognition_id, people.c.display_name, people.c.external_id)
    )
    for recognition_id, external_id, name in await _rows(unit, statement):
        recipients[recognition_id].append(_member(external_id, name))
    tag_names: dict[int, list[str]] = defaultdict(list)
    statement = (
        select(tags.c.recognition_id, tags.c.tag)
        .where(tags.c.recognition_id.in_(ids))
        .order_by(tags.c.recognition_id, tags.c.tag)
    )
    for recognition_id, tag in await _rows(unit, statement):
        tag_names[recognition_id].append(tag)
    for team_id, recognition_id, reason, created_at, external_id, name in chosen:
        facts[team_id].highlights.append(
            Highlight(
                recognition_id=recognition_id,
                giver=_member(external_id, name),
                reason=reason,
                created_at=created_at,
                recipients=recipients[recognition_id],
                tags=tag_names[recognition_id],
            )
        )


async def kudos_by_week(
    unit: Unit, team_ids: list[int], starts: list[datetime], end: datetime
) -> dict[int, list[tuple[int, int]]]:
    """(received, given) by each team's members in each week [starts[i], starts[i+1] or end),
    `starts` oldest first, counted like the digest's weekly numbers (recipient-awards, live).
    Two statements for the whole batch; the weeks are counted here."""
    counts = {team_id: [[0, 0] for _ in starts] for team_id in team_ids}
    if not team_ids or not starts:
        return {team_id: [] for team_id in team_ids}
    joined, where = _live_awards_of_members(team_ids, starts[0], end)
    received = await _rows(
        unit, select(members.c.team_id, awards.c.created_at).select_from(joined).where(where)
    )
    given = await _rows(
        unit,
        select(members.c.team_id, kudos.c.created_at)
        .select_from(
            members.join(kudos, kudos.c.giver_id == members.c.person_id).join(
                awards, awards.c.recognition_id == kudos.c.id
            )
        )
        .where(
            members.c.team_id.in_(team_ids),
            kudos.c.created_at >= starts[0],
            kudos.c.created_at < end,
            kudos.c.revoked_at.is_(None),
        ),
    )
    for column, found in ((0, received), (1, given)):
        for team_id, created_at in found:
            moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
            week = sum(1 for start in starts if start <= moment) - 1
            if 0 <= week < len(starts):
                counts[team_id][week][column] += 1
    return {team_id: [(r, g) for r, g in weeks] for team_id, weeks in counts.items()}
