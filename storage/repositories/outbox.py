"""Outbox rows: enqueue once, claim with row locks, settle after the platform answered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select

from storage.db import insert_for
from storage.models import OutboxItem
from storage.repositories import leases
from storage.repositories.sql import dialect_of, insert_ignore, prepared
from storage.unit import Unit

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
QUEUE = leases.LeasedTable(
    OutboxItem,
    due_at="not_before",
    served_by="platform",
    claimed=SENDING,
    order_by=("not_before", "id"),
)


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
        statement = prepared(dialect_of(unit), ("outbox.enqueue_many",), _enqueue_statement)
        await unit.session.exec(statement, params=rows)


def _enqueue_statement(dialect: str) -> Any:
    table = OutboxItem.__table__  # type: ignore[attr-defined]
    return insert_for(dialect)(table).on_conflict_do_nothing(index_elements=["dedupe_key"])


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
) -> list[leases.Claim[OutboxItem]]:
    """Due messages, and messages whose claim ran out: `taken_over` ones are in doubt, as the
    platform may already have them."""
    return await leases.claim(
        unit, QUEUE, worker=worker, now=now, lease=lease, limit=limit, serving=platforms
    )


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
    in_doubt_since: datetime | None = None,
) -> bool:
    """Record the outcome of a claim; False if the claim was lost to another worker.

    Pending again: due from `not_before` (at once without one, as the row was due when claimed);
    `refund_attempt` when the try did not count; `in_doubt_since` when a try may have been
    delivered and nobody knows yet (None: no doubt left). Any other status ends the doubt."""
    if status == PENDING:
        due = not_before or now
        held = await leases.requeue(
            unit,
            QUEUE,
            [item_id],
            worker,
            due=due,
            error=error,
            refund=refund_attempt,
            in_doubt_since=in_doubt_since,
        )
        return held > 0
    values: dict[str, Any] = {"status": status, "in_doubt_since": None}
    if status == SENT:
        values.update(sent_at=now, platform_ref=platform_ref, last_error=None)
    if error is not None:
        values["last_error"] = leases.error_text(error)
    return await leases.end_claims(unit, QUEUE, [item_id], worker, **values) > 0


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
