"""What someone holding the database can read, beyond `SELECT *`: every row with its system
columns, dead tuples and raw pages (PostgreSQL `pageinspect`), the WAL's transaction ids and
the relations they touched (`pg_walinspect`), and on SQLite the raw file and its WAL.

Used by tests/e2e/test_pulse_attacks.py to play the attacks docs/PRIVACY.md names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import SQLModel

from storage.db import Database


async def rows(db: Database) -> dict[str, set[str]]:
    """Every row of every table, as text, keyed by table."""
    dump: dict[str, set[str]] = {}
    async with db.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            result = await connection.execute(text(f'SELECT * FROM "{table.name}"'))
            dump[table.name] = {repr(tuple(row)) for row in result}
    return dump


@dataclass(frozen=True)
class Tuple:
    relation: str
    xmin: int
    live: bool


async def _superuser(db: Database, statements: list[str]) -> None:
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for statement in statements:
            await autocommit.exec_driver_sql(statement)


async def install_tools(db: Database) -> None:
    """The inspection extensions, created before anything is recorded (creating them writes
    catalog rows)."""
    await _superuser(
        db,
        [
            "CREATE EXTENSION IF NOT EXISTS pageinspect",
            "CREATE EXTENSION IF NOT EXISTS pg_walinspect",
        ],
    )


async def relations(db: Database) -> dict[int, str]:
    """relfilenode → name of every table of ours and its TOAST table and indexes."""
    await _superuser(db, ["CREATE EXTENSION IF NOT EXISTS pageinspect"])
    query = text(
        "SELECT c.relfilenode, COALESCE(owner.relname, c.relname) "
        "FROM pg_class c "
        "LEFT JOIN pg_class owner ON owner.reltoastrelid = c.oid "
        "   OR owner.reltoastrelid = (SELECT indrelid FROM pg_index WHERE indexrelid = c.oid) "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname IN ('public', 'pg_toast') AND c.relfilenode <> 0"
    )
    async with db.engine.connect() as connection:
        return {node: name for node, name in (await connection.execute(query)).all()}


async def heap_tuples(db: Database) -> list[Tuple]:
    """Every tuple, live or dead, of every table of ours and its TOAST table, with `t_xmin`."""
    await _superuser(db, ["CREATE EXTENSION IF NOT EXISTS pageinspect"])
    found: list[Tuple] = []
    query = text(
        "SELECT c.oid::regclass::text, COALESCE(owner.relname, c.relname), "
        "pg_relation_size(c.oid) / current_setting('block_size')::int "
        "FROM pg_class c LEFT JOIN pg_class owner ON owner.reltoastrelid = c.oid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 't') AND n.nspname IN ('public', 'pg_toast')"
    )
    async with db.engine.connect() as connection:
        for regclass, name, blocks in (await connection.execute(query)).all():
            for block in range(blocks):
                items = await connection.execute(
                    text(
                        "SELECT t_xmin, t_xmax, lp_flags FROM heap_page_items("
                        "get_raw_page(:rel, :block)) WHERE lp_flags = 1"
                    ),
                    {"rel": regclass, "block": block},
                )
                found += [Tuple(name, int(xmin), not xmax) for xmin, xmax, _ in items.all()]
    return found


async def raw_pages(db: Database, table: str) -> bytes:
    """The table's (and its TOAST table's) pages as bytes, dead space included."""
    await _superuser(db, ["CREATE EXTENSION IF NOT EXISTS pageinspect"])
    chunks: list[bytes] = []
    query = text(
        "SELECT c.oid::regclass::text, pg_relation_size(c.oid) / "
        "current_setting('block_size')::int FROM pg_class c "
        "WHERE c.oid = CAST(:table AS regclass) OR c.oid = "
        "(SELECT reltoastrelid FROM pg_class WHERE oid = CAST(:table AS regclass))"
    )
    async with db.engine.connect() as connection:
        for regclass, blocks in (await connection.execute(query, {"table": table})).all():
            for block in range(blocks):
                page = await connection.execute(
                    text("SELECT get_raw_page(:rel, :block)"), {"rel": regclass, "block": block}
                )
                chunks.append(bytes(page.scalar_one()))
    return b"".join(chunks)


async def wal_position(db: Database) -> Any:
    async with db.engine.connect() as connection:
        return (await connection.execute(text("SELECT pg_current_wal_lsn()"))).scalar_one()


async def wal_writes(db: Database, since: Any) -> dict[int, set[int]]:
    """xid → relfilenodes its WAL records touched, for every record written since `since`."""
    await _superuser(db, ["SELECT pg_switch_wal()"])
    touched: dict[int, set[int]] = {}
    query = text(
        "SELECT xid::text::bigint, block_ref FROM pg_get_wal_records_info(CAST(:since AS pg_lsn), "
        "pg_current_wal_lsn()) WHERE xid::text::bigint <> 0"
    )
    async with db.engine.connect() as connection:
        ours = (
            await connection.execute(
                text("SELECT oid FROM pg_database WHERE datname = current_database()")
            )
        ).scalar_one()
        for xid, block_ref in (await connection.execute(query, {"since": since})).all():
            # The WAL is the whole server's: keep what was written in this database.
            pairs = re.findall(r"rel \d+/(\d+)/(\d+)", block_ref or "")
            nodes = {int(node) for database, node in pairs if int(database) == ours}
            if nodes:
                touched.setdefault(int(xid), set()).update(nodes)
    return touched


def sqlite_files(database_url: str) -> bytes:
    """The SQLite database file and its WAL, byte for byte (free pages included)."""
    path = Path(database_url.split("///", 1)[1])
    return b"".join(
        candidate.read_bytes()
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )


def strings_in(dump: dict[str, set[str]]) -> str:
    return "\n".join(line for lines in dump.values() for line in lines)


def changed_tables(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, Any]:
    return {
        table: (sorted(before[table] - after[table]), sorted(after[table] - before[table]))
        for table in after
        if before.get(table) != after[table]
    }
