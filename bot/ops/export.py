"""`kudos-pulse export`: stream recognitions (or pulse aggregates) as CSV or JSON lines.

Rows come from a server-side cursor in batches (`yield_per`), and each batch's recipients and
tags are looked up on a second connection, so memory stays flat however many rows there are.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from typing import IO, Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlmodel import col
from sqlmodel import select as sqlmodel_select

from bot.ops.config import Config
from storage.db import Database
from storage.models import Person, Recognition, RecognitionRecipient, RecognitionTag, Workspace

BATCH = 1000
RECOGNITION_FIELDS = (
    "id",
    "time",
    "workspace",
    "giver",
    "recipients",
    "tags",
    "reason",
    "channel",
    "source",
    "revoked",
)


def parse_since(text: str) -> datetime:
    """`2026-11-01` (midnight UTC) or a full ISO time; a time without zone is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--since: {text!r} is not a date like 2026-11-01") from None
    if len(text) == 10:
        moment = datetime.combine(date.fromisoformat(text), datetime.min.time())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def recognition_batches(
    db: Database, *, since: datetime | None = None, workspace: str | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    """Recognitions in id order, one list per database batch."""
    giver = aliased(Person)
    statement = (
        select(
            col(Recognition.id),
            col(Recognition.created_at),
            col(Workspace.external_id).label("workspace"),
            col(giver.external_id).label("giver"),
            col(Recognition.reason),
            col(Recognition.channel_id),
            col(Recognition.source),
            col(Recognition.revoked_at),
        )
        .join(Workspace, col(Workspace.id) == Recognition.workspace_id)
        .join(giver, col(giver.id) == Recognition.giver_id)
        .order_by(col(Recognition.id))
        .execution_options(yield_per=BATCH)
    )
    if since is not None:
        statement = statement.where(col(Recognition.created_at) >= since)
    if workspace is not None:
        statement = statement.where(col(Workspace.external_id) == workspace)
    # Core connections, not ORM sessions: plain rows, no per-row object bookkeeping.
    async with db.engine.connect() as cursor, db.engine.connect() as lookups:
        result = await cursor.stream(statement)
        async for batch in result.partitions():
            ids = [row.id for row in batch]
            recipients = await _recipients(lookups, ids)
            tags = await _tags(lookups, ids)
            await lookups.rollback()  # end the lookup transaction; keep no snapshot open
            yield [
                {
                    "id": row.id,
                    "time": row.created_at.isoformat(),
                    "workspace": row.workspace,
                    "giver": row.giver,
                    "recipients": recipients.get(row.id, []),
                    "tags": tags.get(row.id, []),
                    "reason": row.reason,
                    "channel": row.channel_id or "",
                    "source": row.source,
                    "revoked": row.revoked_at is not None,
                }
                for row in batch
            ]


async def _recipients(session: AsyncConnection, ids: Sequence[int]) -> dict[int, list[str]]:
    statement = (
        select(col(RecognitionRecipient.recognition_id), col(Person.external_id))
        .join(Person, col(Person.id) == RecognitionRecipient.recipient_id)
        .where(col(RecognitionRecipient.recognition_id).in_(bindparam("ids", expanding=True)))
        .order_by(col(RecognitionRecipient.recognition_id), col(Person.external_id))
    )
    found: dict[int, list[str]] = defaultdict(list)
    for recognition_id, external_id in (await session.execute(statement, {"ids": ids})).all():
        found[recognition_id].append(external_id)
    return found


async def _tags(session: AsyncConnection, ids: Sequence[int]) -> dict[int, list[str]]:
    statement = (
        select(col(RecognitionTag.recognition_id), col(RecognitionTag.tag))
        .where(col(RecognitionTag.recognition_id).in_(bindparam("ids", expanding=True)))
        .order_by(col(RecognitionTag.recognition_id), col(RecognitionTag.tag))
    )
    found: dict[int, list[str]] = defaultdict(list)
    for recognition_id, tag in (await session.execute(statement, {"ids": ids})).all():
        found[recognition_id].append(tag)
    return found


async def pulse_batches(
    db: Database, config: Config, *, since: datetime | None = None, workspace: str | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    """Anonymous aggregates per round that met the threshold (bot/pulses/export.py)."""
    from bot.pulses.export import export_rows

    workspace_id: int | None = None
    if workspace is not None:
        async with db.read() as session:
            found = await session.exec(
                sqlmodel_select(Workspace.id).where(Workspace.external_id == workspace)
            )
            workspace_id = found.first()
        if workspace_id is None:  # an unknown workspace has nothing to export
            return
    rows = export_rows(db, since=since, workspace_id=workspace_id)
    async for batch in _batched(rows):
        yield batch


async def _batched(rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    async for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _recognition_cells(row: dict[str, Any]) -> tuple[Any, ...]:
    """The hot path of a large CSV export: every column's type is known."""
    return (
        row["id"],
        row["time"],
        row["workspace"],
        row["giver"],
        " ".join(row["recipients"]),
        " ".join(row["tags"]),
        row["reason"],
        row["channel"],
        row["source"],
        "true" if row["revoked"] else "false",
    )


_PLAIN = frozenset({str, int, float, type(None)})


def _cell(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, list | tuple):
        return " ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


async def write(
    batches: AsyncIterator[list[dict[str, Any]]],
    out: IO[str],
    fmt: str,
    fields: Sequence[str] | None = None,
) -> int:
    """Write rows as CSV (header from `fields` or the first row) or JSON lines; returns count."""
    count = 0
    writer = csv.writer(out)
    header_written = False
    async for batch in batches:
        if not batch:
            continue
        if fmt == "jsonl":
            out.writelines(
                json.dumps(row, ensure_ascii=False, default=_json_default) + "\n" for row in batch
            )
        else:
            if not header_written:
                fields = fields or list(batch[0])
                writer.writerow(fields)
                header_written = True
            assert fields is not None
            if fields is RECOGNITION_FIELDS:
                writer.writerows(map(_recognition_cells, batch))
            else:
                writer.writerows([_cell(row[name]) for name in fields] for row in batch)
        count += len(batch)
    if fmt == "csv" and not header_written and fields:
        writer.writerow(fields)  # an empty export still names its columns
    return count
