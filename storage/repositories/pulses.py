"""Pulse schedules, rounds, deliveries and anonymous responses."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, case, func, insert, update
from sqlmodel import col, select

from storage.models import (
    Person,
    PulseDelivery,
    PulseResponse,
    PulseRound,
    PulseSchedule,
    Team,
    TeamMember,
)
from storage.repositories.sql import insert_ignore, insert_statement, upsert
from storage.unit import Unit

ACTIVE, PAUSED, CANCELLED, DONE = "active", "paused", "cancelled", "done"
# Rows per INSERT statement: well under PostgreSQL's 32,767 bind parameters.
CHUNK = 1000
FAVOURABLE = 4  # the lowest favourable rating (bot.pulses.rules counts the same way)


def _chunks(rows: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# -- schedules -----------------------------------------------------------------------------


async def add_schedule(unit: Unit, schedule: PulseSchedule) -> PulseSchedule:
    unit.session.add(schedule)
    await unit.session.flush()
    return schedule


async def schedule(unit: Unit, workspace_id: int, schedule_id: int) -> PulseSchedule | None:
    found = await unit.session.get(PulseSchedule, schedule_id)
    return found if found is not None and found.workspace_id == workspace_id else None


async def schedules(unit: Unit, workspace_id: int) -> list[PulseSchedule]:
    statement = (
        select(PulseSchedule)
        .where(
            PulseSchedule.workspace_id == workspace_id,
            col(PulseSchedule.status).in_([ACTIVE, PAUSED]),
        )
        .order_by(col(PulseSchedule.id))
    )
    return list((await unit.session.exec(statement)).all())


async def due_schedules(unit: Unit, now: datetime, limit: int = 50) -> list[PulseSchedule]:
    statement = (
        select(PulseSchedule)
        .where(PulseSchedule.status == ACTIVE, col(PulseSchedule.next_fire_at) <= now)
        .order_by(col(PulseSchedule.next_fire_at))
        .limit(limit)
    )
    return list((await unit.session.exec(statement)).all())


async def advance(
    unit: Unit,
    schedule_id: int,
    *,
    expected: datetime | None,
    next_fire_at: datetime | None,
    status: str,
) -> bool:
    """Move a schedule on, only if nobody else did (compare-and-set on `next_fire_at`)."""
    statement = update(PulseSchedule).where(col(PulseSchedule.id) == schedule_id)
    if expected is None:
        statement = statement.where(col(PulseSchedule.next_fire_at).is_(None))
    else:
        statement = statement.where(col(PulseSchedule.next_fire_at) == expected)
    result = await unit.session.exec(statement.values(next_fire_at=next_fire_at, status=status))
    return bool(result.rowcount)


async def set_status(
    unit: Unit, schedule_id: int, status: str, next_fire_at: datetime | None
) -> None:
    await unit.session.exec(
        update(PulseSchedule)
        .where(col(PulseSchedule.id) == schedule_id)
        .values(status=status, next_fire_at=next_fire_at)
    )


# -- rounds --------------------------------------------------------------------------------


async def create_round(unit: Unit, values: dict[str, Any]) -> PulseRound | None:
    """The round for (schedule, scheduled time); None when another process created it."""
    if not await insert_ignore(unit, PulseRound, values, ("schedule_id", "scheduled_for")):
        return None
    statement = select(PulseRound).where(
        PulseRound.schedule_id == values["schedule_id"],
        PulseRound.scheduled_for == values["scheduled_for"],
    )
    return (await unit.session.exec(statement)).one()


async def round_by_id(unit: Unit, workspace_id: int, round_id: int) -> PulseRound | None:
    found = await unit.session.get(PulseRound, round_id)
    return found if found is not None and found.workspace_id == workspace_id else None


async def add_deliveries(unit: Unit, round_id: int, person_ids: Sequence[int]) -> None:
    rows = [{"round_id": round_id, "person_id": pid, "answered": False} for pid in person_ids]
    if rows:  # executemany: compiled once, however many rows
        await unit.session.exec(insert(PulseDelivery.__table__), params=rows)  # type: ignore[attr-defined]


async def delivery(unit: Unit, round_id: int, person_id: int) -> PulseDelivery | None:
    return await unit.session.get(PulseDelivery, (round_id, person_id))


async def mark_answered(unit: Unit, round_id: int, person_id: int) -> None:
    await unit.session.exec(
        update(PulseDelivery)
        .where(col(PulseDelivery.round_id) == round_id, col(PulseDelivery.person_id) == person_id)
        .values(answered=True)
    )


async def save_response(
    unit: Unit,
    round_id: int,
    respondent: str,
    easy: int,
    value: int,
    comment: str | None,
) -> None:
    """Insert, or replace the earlier answer of the same respondent."""
    await upsert(
        unit,
        PulseResponse,
        {
            "round_id": round_id,
            "respondent": respondent,
            "easy": easy,
            "value": value,
            "comment": comment,
        },
        conflict=("round_id", "respondent"),
        update=("easy", "value", "comment"),
    )


async def responses(unit: Unit, round_id: int) -> list[tuple[int, int, str | None]]:
    statement = select(PulseResponse.easy, PulseResponse.value, PulseResponse.comment).where(
        PulseResponse.round_id == round_id
    )
    found = (await unit.session.exec(statement)).all()
    return [(easy, value, comment) for easy, value, comment in found]


async def response_counts(unit: Unit, round_ids: Sequence[int]) -> dict[int, int]:
    if not round_ids:
        return {}
    statement = (
        select(PulseResponse.round_id, func.count())
        .where(col(PulseResponse.round_id).in_(list(round_ids)))
        .group_by(PulseResponse.round_id)
    )
    return {round_id: n for round_id, n in (await unit.session.exec(statement)).all()}


async def due_reminders(unit: Unit, now: datetime, limit: int = 20) -> list[PulseRound]:
    statement = (
        select(PulseRound)
        .where(
            col(PulseRound.reminded).is_(False),
            col(PulseRound.closed).is_(False),
            col(PulseRound.remind_at) <= now,
        )
        .limit(limit)
    )
    return list((await unit.session.exec(statement)).all())


async def due_closes(unit: Unit, now: datetime, limit: int = 20) -> list[PulseRound]:
    statement = (
        select(PulseRound)
        .where(col(PulseRound.closed).is_(False), col(PulseRound.closes_at) <= now)
        .limit(limit)
    )
    return list((await unit.session.exec(statement)).all())


async def claim_flag(unit: Unit, round_id: int, flag: str) -> bool:
    """Set `reminded` or `closed` once; True for the one process that set it."""
    column = getattr(PulseRound, flag)
    result = await unit.session.exec(
        update(PulseRound)
        .where(col(PulseRound.id) == round_id, column.is_(False))
        .values({flag: True})
    )
    return bool(result.rowcount)


async def unanswered(unit: Unit, round_id: int) -> list[tuple[str, str | None]]:
    """(platform user id, time zone) of everyone asked who has not answered yet."""
    statement = (
        select(Person.external_id, Person.timezone)
        .join(PulseDelivery, col(PulseDelivery.person_id) == Person.id)
        .where(PulseDelivery.round_id == round_id, col(PulseDelivery.answered).is_(False))
    )
    return [(user, zone) for user, zone in (await unit.session.exec(statement)).all()]


async def rounds_of_schedule(
    unit: Unit, schedule_id: int, before: datetime, limit: int
) -> list[PulseRound]:
    """Closed rounds of the schedule scheduled before `before`, newest first."""
    statement = (
        select(PulseRound)
        .where(
            PulseRound.schedule_id == schedule_id,
            col(PulseRound.scheduled_for) < before,
            col(PulseRound.closed).is_(True),
        )
        .order_by(col(PulseRound.scheduled_for).desc())
        .limit(limit)
    )
    return list((await unit.session.exec(statement)).all())


async def latest_closed_round(
    unit: Unit, workspace_id: int, team_ids: Sequence[int] | None
) -> PulseRound | None:
    """The newest closed round; limited to `team_ids` unless None (an admin sees all)."""
    statement = select(PulseRound).where(
        PulseRound.workspace_id == workspace_id, col(PulseRound.closed).is_(True)
    )
    if team_ids is not None:
        statement = statement.where(col(PulseRound.team_id).in_(list(team_ids)))
    statement = statement.order_by(col(PulseRound.closes_at).desc(), col(PulseRound.id).desc())
    return (await unit.session.exec(statement.limit(1))).first()


@dataclass(frozen=True)
class Tally:
    """A round's answers counted in SQL: what a summary needs, without reading every answer."""

    responded: int = 0
    easy_sum: int = 0
    value_sum: int = 0
    easy_favourable: int = 0  # answers rating 4 or 5
    value_favourable: int = 0


@dataclass(frozen=True)
class TalliedRound:
    id: int
    schedule_id: int
    subject: str
    scheduled_for: datetime
    closes_at: datetime
    closed: bool
    invited: int
    tally: Tally


@cache
def _team_rounds_tallied() -> Select[Any]:
    """Built once: the digest asks it for every team, and building a statement this size
    costs more than SQLite takes to run it."""
    latest = (
        select(PulseRound.id)
        .where(
            PulseRound.workspace_id == bindparam("workspace_id"),
            PulseRound.team_id == bindparam("team_id"),
            col(PulseRound.scheduled_for) < bindparam("until"),
        )
        .order_by(col(PulseRound.scheduled_for).desc())
        .limit(bindparam("limit"))
        .subquery()
    )
    easy, value = col(PulseResponse.easy), col(PulseResponse.value)
    counted = (
        select(
            col(PulseResponse.round_id).label("round_id"),
            func.count().label("responded"),
            func.sum(easy).label("easy_sum"),
            func.sum(value).label("value_sum"),
            func.sum(case((easy >= FAVOURABLE, 1), else_=0)).label("easy_favourable"),
            func.sum(case((value >= FAVOURABLE, 1), else_=0)).label("value_favourable"),
        )
        .where(col(PulseResponse.round_id).in_(select(latest.c.id)))
        .group_by(col(PulseResponse.round_id))
        .subquery()
    )
    return (
        select(
            col(PulseRound.id),
            col(PulseRound.schedule_id),
            col(PulseRound.subject),
            col(PulseRound.scheduled_for),
            col(PulseRound.closes_at),
            col(PulseRound.closed),
            col(PulseRound.invited),
            counted.c.responded,
            counted.c.easy_sum,
            counted.c.value_sum,
            counted.c.easy_favourable,
            counted.c.value_favourable,
        )
        .join(latest, latest.c.id == PulseRound.id)
        .outerjoin(counted, counted.c.round_id == PulseRound.id)
        .order_by(col(PulseRound.scheduled_for))
    )


async def team_rounds_tallied(
    unit: Unit, workspace_id: int, team_id: int, until: datetime, limit: int
) -> list[TalliedRound]:
    """The team's last `limit` rounds scheduled before `until`, oldest first, each with its
    answers counted: ONE statement (the latest rounds, LEFT JOINed to a GROUP BY of their
    answers), so a digest batch costs one round trip per team however many answers exist."""
    params = {"workspace_id": workspace_id, "team_id": team_id, "until": until, "limit": limit}
    found = (await unit.session.exec(_team_rounds_tallied(), params=params)).all()
    return [TalliedRound(*row[:7], tally=Tally(*(int(n or 0) for n in row[7:]))) for row in found]


async def closed_rounds(
    unit: Unit, since: datetime | None, workspace_id: int | None
) -> list[PulseRound]:
    statement = select(PulseRound).where(col(PulseRound.closed).is_(True))
    if since is not None:
        statement = statement.where(col(PulseRound.scheduled_for) >= since)
    if workspace_id is not None:
        statement = statement.where(PulseRound.workspace_id == workspace_id)
    return list((await unit.session.exec(statement.order_by(col(PulseRound.id)))).all())


# -- people and teams ----------------------------------------------------------------------


async def ensure_people(
    unit: Unit, workspace_id: int, user_ids: Sequence[str], now: datetime
) -> dict[str, tuple[int, str | None]]:
    """(person id, time zone) for each of `user_ids`, creating unknown people in bulk (their
    details are refreshed from the directory on their first own command)."""
    stale = now - timedelta(days=30)  # so the next lookup refreshes name and zone
    rows = [
        {
            "workspace_id": workspace_id,
            "external_id": user,
            "display_name": user,
            "is_bot": False,
            "is_platform_admin": False,
            "refreshed_at": stale,
        }
        for user in user_ids
    ]
    if rows:
        table = Person.__table__  # type: ignore[attr-defined]  (Core: no ORM bookkeeping)
        statement = insert_statement(unit, table).on_conflict_do_nothing(
            index_elements=["workspace_id", "external_id"]
        )
        await unit.session.exec(statement, params=rows)
    found: dict[str, tuple[int, str | None]] = {}
    for chunk in _chunks(list(user_ids)):
        statement = select(Person.external_id, Person.id, Person.timezone).where(
            Person.workspace_id == workspace_id, col(Person.external_id).in_(list(chunk))
        )
        for external_id, person_id, timezone in (await unit.session.exec(statement)).all():
            found[external_id] = (person_id or 0, timezone)
    return found


async def not_to_ask(unit: Unit, workspace_id: int, user_ids: Sequence[str]) -> set[str]:
    """Of `user_ids`, the known bots and the people who asked to be forgotten."""
    excluded: set[str] = set()
    for chunk in _chunks(user_ids):
        statement = select(Person.external_id).where(
            Person.workspace_id == workspace_id,
            col(Person.external_id).in_(chunk),
            col(Person.is_bot) | col(Person.forgotten_at).is_not(None),
        )
        excluded.update((await unit.session.exec(statement)).all())
    return excluded


async def team_by_name(unit: Unit, workspace_id: int, name: str) -> Team | None:
    statement = select(Team).where(Team.workspace_id == workspace_id, func.lower(Team.name) == name)
    return (await unit.session.exec(statement)).first()


async def team_member_ids(unit: Unit, team_id: int) -> list[str]:
    statement = (
        select(Person.external_id)
        .join(TeamMember, col(TeamMember.person_id) == Person.id)
        .where(TeamMember.team_id == team_id)
    )
    return list((await unit.session.exec(statement)).all())


async def led_team_ids(unit: Unit, workspace_id: int, person_id: int) -> list[int]:
    statement = select(Team.id).where(Team.workspace_id == workspace_id, Team.lead_id == person_id)
    found = (await unit.session.exec(statement)).all()
    return [team_id for team_id in found if team_id is not None]
