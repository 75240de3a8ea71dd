"""Pulse schedules, rounds, deliveries, sealed ballots and closed rounds' tallies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, update
from sqlmodel import col, select

from storage.models import (
    Person,
    PulseBallot,
    PulseComment,
    PulseDelivery,
    PulseRound,
    PulseSchedule,
    Team,
    TeamMember,
)
from storage.repositories.sql import insert_ignore, insert_statement
from storage.unit import Unit

ACTIVE, PAUSED, CANCELLED, DONE = "active", "paused", "cancelled", "done"
# Rows per INSERT statement: well under PostgreSQL's 32,767 bind parameters.
CHUNK = 1000
FAVOURABLE = 4  # the lowest favourable rating (bot.pulses.rules counts the same way)
BALLOT_TABLE = PulseBallot.__tablename__
# A round an admin cancelled: closed without results, and in no digest, trend or total.
CANCELLED_ROUND = "cancelled by an admin"


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
    # Sorted: the rows' physical order follows person ids, not anything about the round.
    rows = [{"round_id": round_id, "person_id": pid} for pid in sorted(person_ids)]
    if rows:  # executemany: compiled once, however many rows
        await unit.session.exec(insert(PulseDelivery.__table__), params=rows)  # type: ignore[attr-defined]


async def delivery(unit: Unit, round_id: int, person_id: int) -> PulseDelivery | None:
    return await unit.session.get(PulseDelivery, (round_id, person_id))


@dataclass(frozen=True)
class Asked:
    """Someone a round asked, with what a tag and a reminder need."""

    person_id: int
    user_id: str
    timezone: str | None


async def asked(unit: Unit, round_id: int) -> list[Asked]:
    statement = (
        select(Person.id, Person.external_id, Person.timezone)
        .join(PulseDelivery, col(PulseDelivery.person_id) == Person.id)
        .where(PulseDelivery.round_id == round_id)
        .order_by(col(Person.id))
    )
    rows = (await unit.session.exec(statement)).all()
    return [Asked(pid or 0, user, zone) for pid, user, zone in rows]


async def invited_ids(unit: Unit, round_ids: Sequence[int]) -> dict[int, frozenset[int]]:
    """Each round's invitation list (person ids): what the visibility gate compares."""
    found: dict[int, set[int]] = {round_id: set() for round_id in round_ids}
    for chunk in _chunks(list(round_ids)):
        statement = select(PulseDelivery.round_id, PulseDelivery.person_id).where(
            col(PulseDelivery.round_id).in_(list(chunk))
        )
        for round_id, person_id in (await unit.session.exec(statement)).all():
            found[round_id].add(person_id)
    return {round_id: frozenset(ids) for round_id, ids in found.items()}


# -- sealed ballots (bot/pulses/ballot.py) -------------------------------------------------


async def add_ballots(unit: Unit, round_id: int, buckets: int) -> None:
    """Every bucket exists from the start, so answering only ever rewrites one."""
    rows = [{"round_id": round_id, "bucket": bucket, "sealed": None} for bucket in range(buckets)]
    await unit.session.exec(insert(PulseBallot.__table__), params=rows)  # type: ignore[attr-defined]


async def locked_ballot(unit: Unit, round_id: int, bucket: int) -> bytes | None:
    """The bucket's sealed bytes, locked until the transaction ends (answers to one bucket
    wait for each other; SQLite has one writer anyway)."""
    statement = (
        select(PulseBallot.sealed)
        .where(PulseBallot.round_id == round_id, PulseBallot.bucket == bucket)
        .with_for_update()
    )
    return (await unit.session.exec(statement)).first()


async def save_ballot(unit: Unit, round_id: int, bucket: int, sealed: bytes) -> None:
    await unit.session.exec(
        update(PulseBallot)
        .where(col(PulseBallot.round_id) == round_id, col(PulseBallot.bucket) == bucket)
        .values(sealed=sealed)
    )


async def ballots(unit: Unit, round_id: int) -> list[tuple[int, bytes | None]]:
    statement = select(PulseBallot.bucket, PulseBallot.sealed).where(
        PulseBallot.round_id == round_id
    )
    return [(bucket, sealed) for bucket, sealed in (await unit.session.exec(statement)).all()]


async def delete_ballots(unit: Unit, round_id: int) -> None:
    await unit.session.exec(delete(PulseBallot).where(col(PulseBallot.round_id) == round_id))


# -- closed rounds ---------------------------------------------------------------------------


async def save_closed(
    unit: Unit,
    round_id: int,
    *,
    responded: int,
    tally: list[list[int]] | None,
    scores_shown: bool,
    comments_shown: bool,
    hidden_reason: str | None,
    comments: Sequence[str],
) -> None:
    """A round's outcome: the tally and verdict; comments in the (already shuffled) order
    given, so their physical order is that random order too."""
    await unit.session.exec(
        update(PulseRound)
        .where(col(PulseRound.id) == round_id)
        .values(
            responded=responded,
            tally=tally,
            scores_shown=scores_shown,
            comments_shown=comments_shown,
            hidden_reason=hidden_reason,
        )
    )
    await unit.session.exec(delete(PulseComment).where(col(PulseComment.round_id) == round_id))
    rows = [{"round_id": round_id, "position": n, "text": text} for n, text in enumerate(comments)]
    if rows:
        await unit.session.exec(insert(PulseComment.__table__), params=rows)  # type: ignore[attr-defined]


async def comments(unit: Unit, round_id: int) -> list[str]:
    statement = (
        select(PulseComment.text)
        .where(PulseComment.round_id == round_id)
        .order_by(col(PulseComment.position))
    )
    return list((await unit.session.exec(statement)).all())


async def shown_rounds(unit: Unit, workspace_id: int, exclude: int) -> list[int]:
    """Closed rounds of the workspace whose scores are shown (the gate compares against them)."""
    statement = select(PulseRound.id).where(
        PulseRound.workspace_id == workspace_id,
        col(PulseRound.scores_shown).is_(True),
        col(PulseRound.id) != exclude,
    )
    return [rid for rid in (await unit.session.exec(statement)).all() if rid is not None]


async def comparable_rounds(unit: Unit, workspace_id: int, since: datetime) -> list[int]:
    """Rounds a new audience is compared with: open ones, and shown ones since `since`."""
    statement = select(PulseRound.id).where(
        PulseRound.workspace_id == workspace_id,
        col(PulseRound.closed).is_(False) | col(PulseRound.scores_shown).is_(True),
        col(PulseRound.scheduled_for) >= since,
    )
    return [rid for rid in (await unit.session.exec(statement)).all() if rid is not None]


async def person_ids(unit: Unit, workspace_id: int, user_ids: Sequence[str]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(list(user_ids)):
        statement = select(Person.id).where(
            Person.workspace_id == workspace_id, col(Person.external_id).in_(list(chunk))
        )
        found.update(pid for pid in (await unit.session.exec(statement)).all() if pid is not None)
    return found


async def undecided_closed(unit: Unit, limit: int = 20) -> list[PulseRound]:
    """Closed rounds the gate has not judged yet (rounds tallied by the upgrade to 0005)."""
    statement = (
        select(PulseRound)
        .where(col(PulseRound.closed).is_(True), col(PulseRound.scores_shown).is_(None))
        .order_by(col(PulseRound.closes_at), col(PulseRound.id))
        .limit(limit)
    )
    return list((await unit.session.exec(statement)).all())


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


async def open_rounds(unit: Unit, workspace_id: int) -> list[PulseRound]:
    statement = (
        select(PulseRound)
        .where(PulseRound.workspace_id == workspace_id, col(PulseRound.closed).is_(False))
        .order_by(col(PulseRound.id))
    )
    return list((await unit.session.exec(statement)).all())


async def close_early(unit: Unit, round_id: int, now: datetime) -> bool:
    """Make an open round due to close now; False when it is already closed."""
    result = await unit.session.exec(
        update(PulseRound)
        .where(col(PulseRound.id) == round_id, col(PulseRound.closed).is_(False))
        .values(closes_at=now)
    )
    return bool(result.rowcount)


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
    """A closed round's answers summed from its 5×5 tally: what a summary needs."""

    responded: int = 0
    easy_sum: int = 0
    value_sum: int = 0
    easy_favourable: int = 0  # answers rating 4 or 5
    value_favourable: int = 0

    @classmethod
    def of(cls, grid: Sequence[Sequence[int]] | None) -> Tally:
        """`grid[e-1][v-1]` answers rated EASY e and VALUE v."""
        if not grid:
            return cls()
        cells = [(e + 1, v + 1, n) for e, row in enumerate(grid) for v, n in enumerate(row)]
        return cls(
            responded=sum(n for _, _, n in cells),
            easy_sum=sum(e * n for e, _, n in cells),
            value_sum=sum(v * n for _, v, n in cells),
            easy_favourable=sum(n for e, _, n in cells if e >= FAVOURABLE),
            value_favourable=sum(n for _, v, n in cells if v >= FAVOURABLE),
        )


@dataclass(frozen=True)
class TalliedRound:
    id: int
    schedule_id: int
    subject: str
    scheduled_for: datetime
    closes_at: datetime
    closed: bool
    invited: int
    # How many answered (None while open) and the visibility gate's verdict.
    responded: int | None
    scores_shown: bool | None
    tally: Tally


@cache
def _team_rounds() -> Select[Any]:
    """Built once: the digest asks it for every team."""
    return (
        select(
            col(PulseRound.id),
            col(PulseRound.schedule_id),
            col(PulseRound.subject),
            col(PulseRound.scheduled_for),
            col(PulseRound.closes_at),
            col(PulseRound.closed),
            col(PulseRound.invited),
            col(PulseRound.responded),
            col(PulseRound.scores_shown),
            col(PulseRound.tally),
        )
        .where(
            PulseRound.workspace_id == bindparam("workspace_id"),
            PulseRound.team_id == bindparam("team_id"),
            col(PulseRound.scheduled_for) < bindparam("until"),
            col(PulseRound.hidden_reason).is_distinct_from(CANCELLED_ROUND),
        )
        .order_by(col(PulseRound.scheduled_for).desc())
        .limit(bindparam("limit"))
    )


async def team_rounds_tallied(
    unit: Unit, workspace_id: int, team_id: int, until: datetime, limit: int
) -> list[TalliedRound]:
    """The team's last `limit` rounds scheduled before `until`, oldest first, each with its
    tally (shown rounds only): one statement per team."""
    params = {"workspace_id": workspace_id, "team_id": team_id, "until": until, "limit": limit}
    found = (await unit.session.exec(_team_rounds(), params=params)).all()
    return [
        TalliedRound(*row[:9], tally=Tally.of(row[9] if row[8] else None))
        for row in reversed(found)
    ]


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


async def not_to_ask(unit: Unit, workspace_id: int, user_ids: Sequence[str]) -> set[str]:
    """Of `user_ids`, the known bots, guests of another organisation and the people who
    asked to be forgotten."""
    excluded: set[str] = set()
    for chunk in _chunks(user_ids):
        statement = select(Person.external_id).where(
            Person.workspace_id == workspace_id,
            col(Person.external_id).in_(chunk),
            col(Person.is_bot) | col(Person.is_external) | col(Person.forgotten_at).is_not(None),
        )
        excluded.update((await unit.session.exec(statement)).all())
    return excluded
