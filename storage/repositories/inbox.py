"""Inbox rows: accept once per platform id, claim with row locks, finish or retry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select

from storage.db import insert_for
from storage.models import InboxItem
from storage.unit import Unit

PENDING, WORKING, DONE, FAILED = "pending", "working", "done", "failed"


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
    status, claimed_by, claimed_until = PENDING, None, None
    if claim_for is not None:
        status, claimed_by, claimed_until = WORKING, claim_for[0], now + claim_for[1]
    rows = [
        {
            "key": item.key,
            "kind": item.kind,
            "payload": item.payload,
            "status": status,
            "attempts": 1 if claim_for else 0,
            "available_at": now,
            "claimed_by": claimed_by,
            "claimed_until": claimed_until,
            "accepted_at": now,
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
    due = or_(
        (col(InboxItem.status) == PENDING) & (col(InboxItem.available_at) <= now),
        (col(InboxItem.status) == WORKING) & (col(InboxItem.claimed_until) < now),
    )
    statement = (
        select(InboxItem)
        .where(due, col(InboxItem.kind).in_(list(kinds)))
        .order_by(col(InboxItem.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await unit.session.exec(statement)).all())
    for row in rows:
        row.status = WORKING
        row.claimed_by = worker
        row.claimed_until = now + lease
        row.attempts += 1
    await unit.session.flush()
    return rows


async def finish(unit: Unit, ids: Sequence[int], worker: str, *, now: datetime) -> None:
    """Done: keep the key (redeliveries stay dropped), drop the payload. Only rows this worker
    still holds: one whose lease ran out belongs to whoever claimed it since."""
    if ids:
        await unit.session.exec(
            update(InboxItem)
            .where(col(InboxItem.id).in_(list(ids)), col(InboxItem.claimed_by) == worker)
            .values(
                status=DONE,
                payload=None,
                finished_at=now,
                claimed_by=None,
                claimed_until=None,
                last_error=None,
            )
        )


async def retry_later(
    unit: Unit, item_id: int, worker: str, *, available_at: datetime, error: str
) -> None:
    await _release(unit, item_id, worker, error, status=PENDING, available_at=available_at)


async def give_up(unit: Unit, item_id: int, worker: str, *, now: datetime, error: str) -> None:
    await _release(unit, item_id, worker, error, status=FAILED, payload=None, finished_at=now)


async def _release(unit: Unit, item_id: int, worker: str, error: str, **values: Any) -> None:
    """End this worker's claim on a row that failed, with what happens to it next."""
    await unit.session.exec(
        update(InboxItem)
        .where(col(InboxItem.id) == item_id, col(InboxItem.claimed_by) == worker)
        .values(claimed_by=None, claimed_until=None, last_error=error[:500], **values)
    )


async def hand_back(unit: Unit, ids: Sequence[int], worker: str, now: datetime) -> None:
    """Claimed but not done (shutting down): due again at once for any worker."""
    if ids:
        await unit.session.exec(
            update(InboxItem)
            .where(col(InboxItem.id).in_(list(ids)), col(InboxItem.claimed_by) == worker)
            .values(
                status=PENDING,
                available_at=now,
                claimed_by=None,
                claimed_until=None,
                attempts=InboxItem.attempts - 1,
            )
        )


async def forget_finished_before(unit: Unit, cutoff: datetime) -> int:
    result = await unit.session.exec(
        delete(InboxItem).where(
            col(InboxItem.status).in_([DONE, FAILED]), col(InboxItem.finished_at) < cutoff
        )
    )
    return result.rowcount or 0


async def count_by_status(unit: Unit) -> dict[str, int]:
    statement = select(InboxItem.status, func.count()).group_by(InboxItem.status)
    return {status: n for status, n in (await unit.session.exec(statement)).all()}
