"""Dialect-aware statements both SQLite and PostgreSQL support with the same meaning."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam

from storage.db import insert_for
from storage.unit import Unit

# Statements built once per process and dialect: building one (the where clauses, the values,
# the ON CONFLICT) costs more CPU than running it on a hot path, while SQLAlchemy's own cache
# already keeps the compiled SQL (docs/PERFORMANCE.md).
_PREPARED: dict[tuple[Hashable, ...], Any] = {}


def dialect_of(unit: Unit) -> str:
    return str(unit.session.get_bind().dialect.name)


def prepared(dialect: str, key: tuple[Hashable, ...], build: Callable[[str], Any]) -> Any:
    """The statement `build(dialect)` made the first time `key` was asked for; its values
    come as bound parameters at execution."""
    statement = _PREPARED.get((dialect, *key))
    if statement is None:
        statement = _PREPARED[(dialect, *key)] = build(dialect)
    return statement


def bound_parameters(names: Sequence[str]) -> dict[str, Any]:
    return {name: bindparam(name) for name in names}


def insert_statement(unit: Unit, table: Any) -> Any:
    """The dialect's INSERT, which offers ON CONFLICT on both SQLite and PostgreSQL."""
    return insert_for(unit.session.get_bind().dialect.name)(table)


async def insert_ignore(
    unit: Unit, table: Any, values: Mapping[str, Any], conflict: Sequence[str]
) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; True when a row was inserted."""
    names = tuple(values)

    def build(dialect: str) -> Any:
        # On the table, not the ORM class: a plain INSERT that reports its row count.
        return (
            insert_for(dialect)(getattr(table, "__table__", table))
            .values(bound_parameters(names))
            .on_conflict_do_nothing(index_elements=list(conflict))
        )

    statement = prepared(dialect_of(unit), ("insert_ignore", table, names, tuple(conflict)), build)
    result = await unit.session.exec(statement, params=dict(values))
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
    databases support on ON CONFLICT): no read back after the write. `table` is a Core table
    and the answer its row: the ORM's bookkeeping would cost more than the statement."""
    names = tuple(values)

    def build(dialect: str) -> Any:
        statement = insert_for(dialect)(table).values(bound_parameters(names))
        return statement.on_conflict_do_update(
            index_elements=list(conflict),
            set_={column: statement.excluded[column] for column in update},
        ).returning(*table.columns)

    key = ("upsert_returning", table, names, tuple(conflict), tuple(update))
    statement = prepared(dialect_of(unit), key, build)
    return (await unit.session.exec(statement, params=dict(values))).one()
