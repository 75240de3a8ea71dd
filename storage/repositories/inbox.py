"""Inbox rows: accept once per platform id, claim with row locks, finish or retry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col

from storage.db import insert_for
from storage.models import InboxItem
from storage.repositories import leases
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
) -> dict[str, int]:
    """Insert the items whose key is new; returns {key: row id} for those. Plain SQL on a
    connection: this runs beside the acknowledgements, where every bit of CPU shows.

    With `claim_for` (worker, lease) the new rows start claimed by that worker, so the process
    that accepted them can run them at once without a second round trip."""
    if not items:
        return {}
    state: dict[str, Any] = {"status": PENDING, "claimed_by": None, "claimed_until": None}
    if claim_for is not None:
        state = leases.claimed_columns(QUEUE, claim_for[0], now, claim_for[1])
    rows = [
        {
            "key": item.key,
            "kind": item.kind,
            "payload": item.payload,
            "attempts": 1 if claim_for else 0,
            "available_at": now,
            "accepted_at": now,
            **state,
        }
        for item in items
    ]
    insert = insert_for(connection.dialect.name)
    statement = (
        insert(InboxItem)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(InboxItem.id), col(InboxItem.key))
    )
    result = await connection.execute(statement)
    return {key: row_id for row_id, key in result.all()}


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


async def finish(unit: Unit, ids: Sequence[int], worker: str, *, now: datetime) -> None:
    """Done: keep the key (redeliveries stay dropped), drop the payload."""
    await leases.end_claims(
        unit, QUEUE, ids, worker, status=DONE, payload=None, finished_at=now, last_error=None
    )


async def retry_later(
    unit: Unit, item_id: int, worker: str, *, available_at: datetime, error: str
) -> None:
    await leases.requeue(unit, QUEUE, [item_id], worker, due=available_at, error=error)


async def give_up(unit: Unit, item_id: int, worker: str, *, now: datetime, error: str) -> None:
    await leases.end_claims(
        unit,
        QUEUE,
        [item_id],
        worker,
        status=FAILED,
        payload=None,
        finished_at=now,
        last_error=leases.error_text(error),
    )


async def hand_back(unit: Unit, ids: Sequence[int], worker: str, now: datetime) -> None:
    """Claimed but not done (shutting down): due again at once for any worker."""
    await leases.requeue(unit, QUEUE, ids, worker, due=now, refund=True)


async def forget_finished_before(unit: Unit, cutoff: datetime) -> int:
    result = await unit.session.exec(
        delete(InboxItem).where(
            col(InboxItem.status).in_([DONE, FAILED]), col(InboxItem.finished_at) < cutoff
        )
    )
    return result.rowcount or 0
