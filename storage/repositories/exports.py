"""Rows for `kudos-pulse export`, streamed: a server-side cursor read in batches.

Each batch's recipients and tags are looked up on a second connection, so memory stays flat
however many recognitions there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased
from sqlmodel import col

from storage.db import Database
from storage.models import Person, Recognition, RecognitionRecipient, RecognitionTag, Workspace


class ExportedRecognition(NamedTuple):
    """One recognition as exported: platform ids rather than row ids."""

    id: int
    created_at: datetime
    workspace: str
    giver: str
    reason: str
    channel_id: str | None
    source: str
    revoked_at: datetime | None
    recipients: list[str]
    tags: list[str]


async def recognition_batches(
    db: Database, *, batch: int, since: datetime | None = None, workspace: str | None = None
) -> AsyncIterator[list[ExportedRecognition]]:
    """Recognitions in id order, `batch` at a time; `workspace` is a platform id."""
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
        .execution_options(yield_per=batch)
    )
    if since is not None:
        statement = statement.where(col(Recognition.created_at) >= since)
    if workspace is not None:
        statement = statement.where(col(Workspace.external_id) == workspace)
    # Core connections, not ORM sessions: plain rows, no per-row object bookkeeping.
    async with db.engine.connect() as cursor, db.engine.connect() as lookups:
        result = await cursor.stream(statement)
        async for rows in result.partitions():
            ids = [row.id for row in rows]
            recipients = await _recipients(lookups, ids)
            tags = await _tags(lookups, ids)
            await lookups.rollback()  # end the lookup transaction; keep no snapshot open
            yield [
                ExportedRecognition(*row, recipients.get(row.id, []), tags.get(row.id, []))
                for row in rows
            ]


async def _recipients(connection: AsyncConnection, ids: Sequence[int]) -> dict[int, list[str]]:
    statement = (
        select(col(RecognitionRecipient.recognition_id), col(Person.external_id))
        .join(Person, col(Person.id) == RecognitionRecipient.recipient_id)
        .where(col(RecognitionRecipient.recognition_id).in_(bindparam("ids", expanding=True)))
        .order_by(col(RecognitionRecipient.recognition_id), col(Person.external_id))
    )
    found: dict[int, list[str]] = defaultdict(list)
    for recognition_id, external_id in (await connection.execute(statement, {"ids": ids})).all():
        found[recognition_id].append(external_id)
    return found


async def _tags(connection: AsyncConnection, ids: Sequence[int]) -> dict[int, list[str]]:
    statement = (
        select(col(RecognitionTag.recognition_id), col(RecognitionTag.tag))
        .where(col(RecognitionTag.recognition_id).in_(bindparam("ids", expanding=True)))
        .order_by(col(RecognitionTag.recognition_id), col(RecognitionTag.tag))
    )
    found: dict[int, list[str]] = defaultdict(list)
    for recognition_id, tag in (await connection.execute(statement, {"ids": ids})).all():
        found[recognition_id].append(tag)
    return found
