"""A leased queue over a table: the mechanism the inbox and the outbox share.

A row waits as `pending` until its due time. A worker claims due rows for a while (a lease):
it writes its name and the lease's end on them and counts the attempt. Only the worker still
holding a claim may end it — finish the row, put it back in the queue, or give up on it —
because once a lease has run out (its worker died or stalled) any worker may claim the row
again, and the late one must not overwrite what the new holder does.

Claims lock the rows they read with SKIP LOCKED, so workers on PostgreSQL pass over each
other's rows instead of queueing behind them. SQLite has no row locks (its dialect leaves the
clause out): there, claims take turns as writes (see `storage.db.Database.write`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import or_, update
from sqlmodel import col, select

from storage.unit import Unit

# The `last_error` column's length.
ERROR_LENGTH = 500


class LeasedRow(Protocol):
    """The columns every leased table has."""

    id: int | None
    status: str
    attempts: int
    claimed_by: str | None
    claimed_until: datetime | None
    last_error: str | None


Row = TypeVar("Row", bound=LeasedRow)


@dataclass(frozen=True)
class LeasedTable(Generic[Row]):
    """Which columns make a table a leased queue, beyond the ones in `LeasedRow`."""

    model: type[Row]
    # When a pending row becomes due.
    due_at: str
    # What a worker picks its rows by: the kinds or the platforms it serves.
    served_by: str
    # The status of a row under a claim.
    claimed: str
    pending: str = "pending"
    # Claiming order: oldest first.
    order_by: tuple[str, ...] = ("id",)

    def column(self, name: str) -> Any:
        return getattr(self.model, name)


@dataclass(frozen=True)
class Claim(Generic[Row]):
    row: Row
    # The row was taken over from a claim that ran out without ending: its worker may have
    # done part of the work.
    taken_over: bool
    # When that claim began (its end minus this lease): nothing it did is older.
    previous_claim_at: datetime | None = None


def claimed_columns(
    table: LeasedTable[Any], worker: str, now: datetime, lease: timedelta
) -> dict[str, Any]:
    """The claim columns of a row written already claimed by `worker` from `now` for `lease`."""
    return {"status": table.claimed, "claimed_by": worker, "claimed_until": now + lease}


async def claim(
    unit: Unit,
    table: LeasedTable[Row],
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    serving: Sequence[str],
) -> list[Claim[Row]]:
    """Claim up to `limit` due rows for `worker`: pending ones whose time has come, and claimed
    ones whose lease ran out."""
    status, claimed_until = col(table.column("status")), col(table.column("claimed_until"))
    due = or_(
        (status == table.pending) & (col(table.column(table.due_at)) <= now),
        (status == table.claimed) & (claimed_until < now),
    )
    statement = (
        select(table.model)
        .where(due, col(table.column(table.served_by)).in_(list(serving)))
        .order_by(*(col(table.column(name)) for name in table.order_by))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows: list[Row] = list((await unit.session.exec(statement)).all())
    claims = [_claim_of(row, table, lease) for row in rows]
    for row in rows:
        row.status, row.claimed_by, row.claimed_until = table.claimed, worker, now + lease
        row.attempts += 1
    await unit.session.flush()
    return claims


def _claim_of(row: Row, table: LeasedTable[Row], lease: timedelta) -> Claim[Row]:
    """The claim about to be taken on `row`, read before the row changes."""
    if row.status != table.claimed:
        return Claim(row=row, taken_over=False)
    began = row.claimed_until - lease if row.claimed_until is not None else None
    return Claim(row=row, taken_over=True, previous_claim_at=began)


async def end_claims(
    unit: Unit,
    table: LeasedTable[Any],
    ids: Sequence[Any],
    worker: str,
    *,
    by: str = "id",
    **values: Any,
) -> int:
    """End `worker`'s claim on these rows (`ids`: values of the unique column `by`), writing
    `values` with it; returns how many rows it still held. A row claimed by another worker
    since is left alone: it is no longer ours."""
    if not ids:
        return 0
    row_id = col(table.column(by))
    # One row (most outcomes): a plain comparison, which SQLAlchemy need not expand per call.
    which = row_id == ids[0] if len(ids) == 1 else row_id.in_(list(ids))
    result = await unit.session.exec(
        update(table.model)
        .where(which, col(table.column("claimed_by")) == worker)
        .values(claimed_by=None, claimed_until=None, **values)
    )
    return result.rowcount or 0


async def requeue(
    unit: Unit,
    table: LeasedTable[Any],
    ids: Sequence[Any],
    worker: str,
    *,
    by: str = "id",
    due: datetime,
    error: str | None = None,
    refund: bool = False,
    **more: Any,
) -> int:
    """End the claim with the rows pending again from `due`. `refund`: the try did not count
    (handed back unsent, rate limited), so it takes nothing from the row's attempts. `more`:
    the table's own columns to write as well."""
    values: dict[str, Any] = {"status": table.pending, table.due_at: due, **more}
    if error is not None:
        values["last_error"] = error_text(error)
    if refund:
        values["attempts"] = table.column("attempts") - 1
    return await end_claims(unit, table, ids, worker, by=by, **values)


def error_text(error: str) -> str:
    """An error as it fits the `last_error` column."""
    return error[:ERROR_LENGTH]
