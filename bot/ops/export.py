"""`kudos-pulse export`: stream recognitions (or pulse aggregates) as CSV or JSON lines.

Rows come from the database in batches (storage/repositories/exports.py) and are written as
they come, so memory stays flat however many rows there are.
"""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime
from typing import IO, Any

from bot.ops.config import Config
from storage.db import Database
from storage.repositories import exports, workspaces

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
    async for batch in exports.recognition_batches(
        db, batch=BATCH, since=since, workspace=workspace
    ):
        yield [
            {
                "id": row.id,
                "time": row.created_at.isoformat(),
                "workspace": row.workspace,
                "giver": row.giver,
                "recipients": row.recipients,
                "tags": row.tags,
                "reason": row.reason,
                "channel": row.channel_id or "",
                "source": row.source,
                "revoked": row.revoked_at is not None,
            }
            for row in batch
        ]


async def pulse_batches(
    db: Database, config: Config, *, since: datetime | None = None, workspace: str | None = None
) -> AsyncIterator[list[dict[str, Any]]]:
    """Anonymous aggregates per round that met the threshold (bot/pulses/export.py)."""
    from bot.pulses.export import export_rows

    workspace_id: int | None = None
    if workspace is not None:
        async with db.read() as unit:
            workspace_id = await workspaces.id_of(unit, workspace)
        if workspace_id is None:  # an unknown workspace has nothing to export
            return
    rows = export_rows(db, since=since, workspace_id=workspace_id)
    async for batch in _batched(rows):
        yield batch


def pulse_fields() -> tuple[str, ...]:
    from bot.pulses.export import FIELDS

    return FIELDS


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
