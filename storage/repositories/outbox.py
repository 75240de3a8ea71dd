"""Outbox rows: enqueue once, claim with row locks, settle after the platform answered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import col, select

from storage.models import OutboxItem
from storage.repositories.sql import insert_ignore, insert_statement
from storage.unit import Unit

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"


@dataclass(frozen=True)
class Claimed:
    item: OutboxItem
    # A previous claim expired without an answer: the platform may already have it.
    in_doubt: bool
    # When that expired claim began (its end minus this lease): nothing it sent is older.
    previous_claim_at: datetime | None = None


async def enqueue(
    unit: Unit,
    *,
    workspace_id: int,
    platform: str,
    key: str,
    message: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
) -> bool:
    """Queue one message; False when `key` was queued before (a repeated fan-out)."""
    return await insert_ignore(
        unit,
        OutboxItem,
        {
            "workspace_id": workspace_id,
            "platform": platform,
            "dedupe_key": key,
            "message": message,
            "status": PENDING,
            "attempts": 0,
            "not_before": not_before or now,
            "created_at": now,
        },
        ("dedupe_key",),
    )


async def enqueue_many(
    unit: Unit,
    *,
    workspace_id: int,
    platform: str,
    items: Sequence[tuple[str, dict[str, Any], datetime]],
    now: datetime,
) -> None:
    """Queue many (key, message, not_before) at once; keys queued before are skipped."""
    rows = [
        {
            "workspace_id": workspace_id,
            "platform": platform,
            "dedupe_key": key,
            "message": message,
            "status": PENDING,
            "attempts": 0,
            "not_before": not_before,
            "created_at": now,
        }
        for key, message, not_before in items
    ]
    if rows:  # executemany: the statement is compiled once, however many rows
        statement = insert_statement(unit, OutboxItem.__table__)  # type: ignore[attr-defined]
        await unit.session.exec(
            statement.on_conflict_do_nothing(index_elements=["dedupe_key"]), params=rows
        )


async def cancel_pending_prefix(unit: Unit, prefix: str) -> int:
    """Cancel every pending row whose key starts with `prefix` (e.g. a closed round's asks)."""
    result = await unit.session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.dedupe_key).startswith(prefix), col(OutboxItem.status) == PENDING)
        .values(status=CANCELLED)
    )
    return result.rowcount or 0


async def claim_due(
    unit: Unit,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    platforms: list[str],
) -> list[Claimed]:
    due = or_(
        (col(OutboxItem.status) == PENDING) & (col(OutboxItem.not_before) <= now),
        (col(OutboxItem.status) == SENDING) & (col(OutboxItem.claimed_until) < now),
    )
    statement = (
        select(OutboxItem)
        .where(due, col(OutboxItem.platform).in_(platforms))
        .order_by(col(OutboxItem.not_before), col(OutboxItem.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await unit.session.exec(statement)).all())
    claimed = [
        Claimed(
            item=row,
            in_doubt=row.status == SENDING,
            previous_claim_at=(row.claimed_until - lease)
            if row.status == SENDING and row.claimed_until is not None
            else None,
        )
        for row in rows
    ]
    for row in rows:
        row.status = SENDING
        row.claimed_by = worker
        row.claimed_until = now + lease
        row.attempts += 1
    await unit.session.flush()
    return claimed


async def settle(
    unit: Unit,
    item_id: int,
    worker: str,
    *,
    status: str,
    now: datetime,
    platform_ref: str | None = None,
    not_before: datetime | None = None,
    error: str | None = None,
    refund_attempt: bool = False,
) -> bool:
    """Record the outcome of a claim; False if the claim was lost to another worker."""
    values: dict[str, Any] = {"status": status, "claimed_by": None, "claimed_until": None}
    if status == SENT:
        values.update(sent_at=now, platform_ref=platform_ref, last_error=None)
    if not_before is not None:
        values["not_before"] = not_before
    if error is not None:
        values["last_error"] = error[:500]
    if refund_attempt:
        values["attempts"] = OutboxItem.attempts - 1
    result = await unit.session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.id) == item_id, col(OutboxItem.claimed_by) == worker)
        .values(**values)
    )
    return bool(result.rowcount)


async def find_by_key(unit: Unit, key: str) -> OutboxItem | None:
    return (await unit.session.exec(select(OutboxItem).where(OutboxItem.dedupe_key == key))).first()


async def cancel_pending(unit: Unit, keys: list[str]) -> int:
    if not keys:
        return 0
    result = await unit.session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.dedupe_key).in_(keys), col(OutboxItem.status) == PENDING)
        .values(status=CANCELLED)
    )
    return result.rowcount or 0


async def next_due(unit: Unit, platforms: list[str]) -> datetime | None:
    statement = select(func.min(OutboxItem.not_before)).where(
        col(OutboxItem.status) == PENDING, col(OutboxItem.platform).in_(platforms)
    )
    return (await unit.session.exec(statement)).one()


async def count_by_status(unit: Unit) -> dict[str, int]:
    statement = select(OutboxItem.status, func.count()).group_by(OutboxItem.status)
    return {status: n for status, n in (await unit.session.exec(statement)).all()}
