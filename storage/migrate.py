"""Apply Alembic migrations programmatically on the application's own async engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def _alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(_alembic_config()).get_heads())


async def current_revisions(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(
            await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()
            )
        )


async def is_current(db: Database) -> bool:
    return await current_revisions(db) == head_revisions()


async def upgrade(db: Database, revision: str = "heads") -> tuple[set[str], set[str]]:
    """Bring the schema to `revision`; returns (revisions before, revisions after).

    "heads": features add their tables on their own migration branches (each revising
    0001), so every branch head is applied; a later merge revision may join them."""
    before = await current_revisions(db)
    async with db.engine.begin() as connection:
        if not db.is_sqlite:
            # Several processes may start together; one migrates, the others wait here.
            await connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7345601)")
        await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), revision))
    return before, await current_revisions(db)


def autogenerate(sync_connection: Connection, message: str, rev_id: str) -> None:
    """Developer helper: write a new revision from the difference between models and schema."""
    command.revision(
        _alembic_config(sync_connection), message=message, autogenerate=True, rev_id=rev_id
    )
