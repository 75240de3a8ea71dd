"""Inbox rows: accept once per platform id, claim with row locks, finish or retry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from storage.db import insert_for
from storage.models import InboxItem
from storage.repositories import leases
from storage.repositories.sql import prepared
from storage.unit import Unit

PENDING, WORKING, DONE, FAILED = "pending", "working", "done", "failed"
QUEUE = leases.LeasedTable(InboxItem, due_at="available_at", served_by="kind", claimed=WORKING)


@dataclass(frozen=True)
class Accepted:
    kind: str
    key: str
    payload: dict[str, Any]


async def accept_many(
    connection: AsyncConnection,
    items: Sequence[Accepted],
    *,
    now: datetime,
    claim_for: tuple[str, timedelta] | None = None,
    handled: bool = False,
) -> dict[str, int]:
    """Insert the items whose key is new; returns {key: row id} for those. Plain SQL on a
    connection: this runs beside the acknowledgements, where every bit of CPU shows.

    With `claim_for` (worker, lease) the new rows start claimed by that worker, so the process
    that accepted them can run them at once without a second round trip. `handled`: they
    were run already (started when accepted): written done, with their key and no payload."""
    if not items:
        return {}
    state: dict[str, Any] = {"status": PENDING, "claimed_by": None, "claimed_until": None}
    if claim_for is not None:
        state = leases.claimed_columns(QUEUE, claim_for[0], now, claim_for[1])
    if handled:
        state = {"status": DONE, "claimed_by": None, "claimed_until": None, "finished_at": now}
    rows = [
        {
            "key": item.key,
            "kind": item.kind,
            "payload": None if handled else item.payload,
            "attempts": 1 if claim_for or handled else 0,
            "available_at": now,
            "accepted_at": now,
            "finished_at": None,
            "last_error": None,
            **state,
        }
        for item in items
    ]
    statement = prepared(connection.dialect.name, ("inbox.accept",), _accept_statement)
    # Many rows, one statement compiled once (SQLAlchemy batches them into multi-row VALUES).
    result = await connection.execute(statement, rows)
    return {key: row_id for row_id, key in result.all()}


def _accept_statement(dialect: str) -> Any:
    table = InboxItem.__table__  # type: ignore[attr-defined]
    return (
        insert_for(dialect)(table)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.id, table.c.key)
    )


# PostgreSQL channel on which new inbox rows are announced to workers in other processes.
CHANNEL = "kudos_pulse_inbox"


async def announce(connection: AsyncConnection) -> None:
    """Tell listening workers that rows are waiting (delivered when this commits; repeated
    announcements in one transaction arrive once). Nothing on SQLite: its workers poll."""
    if connection.dialect.name == "postgresql":
        await connection.exec_driver_sql(f"NOTIFY {CHANNEL}")


async def claim_due(
    unit: Unit,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    kinds: Sequence[str],
) -> list[InboxItem]:
    """Due rows, and rows whose worker's lease ran out (it died mid-way), now this worker's."""
    claims = await leases.claim(
        unit, QUEUE, worker=worker, now=now, lease=lease, limit=limit, serving=kinds
    )
    return [claim.row for claim in claims]


# A worker names its rows by key: a request may start before its row is written
# (bot/runtime/inbox.py), and the key is what both know.


async def finish_on(
    connection: AsyncConnection, keys: Sequence[str], worker: str, *, now: datetime
) -> None:
    """Done: keep the key (redeliveries stay dropped), drop the payload. Plain SQL on a
    connection: usually in the writer's own transaction, with the next requests."""
    if keys:
        statement = prepared(connection.dialect.name, ("inbox.finish",), _finish_statement)
        await connection.execute(statement, {"keys": list(keys), "worker": worker, "now": now})


def _finish_statement(_dialect: str) -> Any:
    table = InboxItem.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(
            table.c.key.in_(bindparam("keys", expanding=True)),
            table.c.claimed_by == bindparam("worker"),
        )
        .values(
            status=DONE,
            payload=None,
            finished_at=bindparam("now"),
            last_error=None,
            claimed_by=None,
            claimed_until=None,
        )
    )


async def retry_later(
    unit: Unit, key: str, worker: str, *, available_at: datetime, error: str
) -> None:
    await leases.requeue(unit, QUEUE, [key], worker, by="key", due=available_at, error=error)


async def give_up(unit: Unit, key: str, worker: str, *, now: datetime, error: str) -> None:
    await leases.end_claims(
        unit,
        QUEUE,
        [key],
        worker,
        by="key",
        status=FAILED,
        payload=None,
        finished_at=now,
        last_error=leases.error_text(error),
    )


async def hand_back(unit: Unit, keys: Sequence[str], worker: str, now: datetime) -> None:
    """Claimed but not done (shutting down): due again at once for any worker."""
    await leases.requeue(unit, QUEUE, keys, worker, by="key", due=now, refund=True)


async def forget_finished_before(unit: Unit, cutoff: datetime) -> int:
    result = await unit.session.exec(
        delete(InboxItem).where(
            col(InboxItem.status).in_([DONE, FAILED]), col(InboxItem.finished_at) < cutoff
        )
    )
    return result.rowcount or 0
