"""Copy every table from one database to another (e.g. SQLite → PostgreSQL) in batches.

Generic over `SQLModel.metadata`: tables are copied parents first (foreign-key order), so
every feature's tables come along without this module knowing them. The target is migrated
first and must be empty; the copy is one transaction on the target (all or nothing), and
PostgreSQL sequences are moved past the copied ids so new rows do not collide.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Integer, Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (every table on the metadata)
from storage import migrate
from storage.db import Database


class CopyRefused(Exception):
    """The copy would be unsafe (schema behind, target not empty); the message says why."""


def tables() -> list[Table]:
    return list(SQLModel.metadata.sorted_tables)


async def row_counts(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with db.engine.connect() as connection:
        for table in tables():
            total = select(func.count()).select_from(table)
            counts[table.name] = (await connection.execute(total)).scalar_one()
    return counts


async def copy_all(
    source: Database,
    target: Database,
    *,
    batch: int = 1000,
    progress: Callable[[str, int], None] = lambda _table, _rows: None,
) -> dict[str, int]:
    """Copy everything; returns rows copied per table."""
    if not await migrate.is_current(source):
        raise CopyRefused("the source schema is behind; run `kudos-pulse migrate` on it first")
    await migrate.upgrade(target)
    filled = {name: n for name, n in (await row_counts(target)).items() if n}
    if filled:
        listed = ", ".join(f"{name} ({n} rows)" for name, n in sorted(filled.items()))
        raise CopyRefused(f"the target database is not empty: {listed}")
    copied: dict[str, int] = {}
    async with source.engine.connect() as reading, target.engine.begin() as writing:
        for table in tables():
            copied[table.name] = await _copy_table(reading, writing, table, batch)
            progress(table.name, copied[table.name])
        if not target.is_sqlite:
            await _reset_sequences(writing)
    return copied


async def _copy_table(
    reading: AsyncConnection, writing: AsyncConnection, table: Table, batch: int
) -> int:
    rows = 0
    result = await reading.stream(select(table).execution_options(yield_per=batch))
    async for part in result.partitions(batch):
        await writing.execute(insert(table), [dict(row._mapping) for row in part])
        rows += len(part)
    return rows


async def _reset_sequences(writing: AsyncConnection) -> None:
    """Each serial/identity key's sequence continues after the largest copied id."""
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        column = keys[0].name
        await writing.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE((SELECT MAX("{column}") FROM "{table.name}"), 0) + 1, false)'
            ),
            {"table": f'"{table.name}"', "column": column},
        )
