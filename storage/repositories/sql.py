"""Dialect-aware statements both SQLite and PostgreSQL support with the same meaning."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from storage.db import insert_for
from storage.unit import Unit


def insert_statement(unit: Unit, table: Any) -> Any:
    """The dialect's INSERT, which offers ON CONFLICT on both SQLite and PostgreSQL."""
    return insert_for(unit.session.get_bind().dialect.name)(table)


async def insert_ignore(
    unit: Unit, table: Any, values: Mapping[str, Any], conflict: Sequence[str]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when a row was inserted."""
    statement = (
        insert_statement(unit, table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict))
    )
    result = await unit.session.exec(statement)
    return bool(result.rowcount)


async def upsert(
    unit: Unit,
    table: Any,
    values: Mapping[str, Any],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """INSERT … ON CONFLICT (conflict) DO UPDATE SET each of `update` to the new value."""
    statement = insert_statement(unit, table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict),
        set_={column: statement.excluded[column] for column in update},
    )
    await unit.session.exec(statement)


async def upsert_returning(
    unit: Unit,
    table: Any,
    values: Mapping[str, Any],
    conflict: Sequence[str],
    update: Sequence[str],
) -> Any:
    """`upsert`, answering the row as stored in the same statement (RETURNING, which both
    databases support on ON CONFLICT): no read back after the write."""
    statement = insert_statement(unit, table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=list(conflict),
        set_={column: statement.excluded[column] for column in update},
    ).returning(table)
    # populate_existing: a copy already in this session takes the stored values.
    result = await unit.session.exec(statement, execution_options={"populate_existing": True})
    return result.scalar_one()
