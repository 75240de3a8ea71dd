"""Migration 0010: a person's `/kudos notify off`, stored under the old key, moves under the
`person:<id>:` prefix — so it still mutes their DMs and `forget` still finds it — and back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from storage import migrate
from storage.db import Database
from tests.conftest import ON_POSTGRES
from tests.harness.postgres import as_admin, database_url


@pytest.fixture
async def old_db(tmp_path: Path) -> AsyncIterator[Database]:
    if not ON_POSTGRES:
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        yield database
        await database.dispose()
        return
    name = f"kp_settings_{uuid.uuid4().hex[:8]}"
    await as_admin(f'CREATE DATABASE "{name}"')
    database = Database(database_url(name))
    yield database
    await database.dispose()
    await as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _settings(db: Database) -> dict[str, str]:
    async with db.engine.connect() as connection:
        rows = await connection.execute(text("SELECT key, value FROM app_settings"))
        return {key: value for key, value in rows.all()}


async def test_notify_off_moves_under_the_person_prefix_and_back(old_db: Database) -> None:
    await migrate.upgrade(old_db, "0009_charts")
    async with old_db.engine.begin() as connection:
        for key, value in [
            ("kudos.notify-off:7", "off"),
            ("kudos.notify-off:12", "off"),
            ("kudos.celebrate:7", "nowhere"),  # a workspace's setting: not a person's
        ]:
            await connection.execute(
                text("INSERT INTO app_settings (key, value) VALUES (:key, :value)"),
                {"key": key, "value": value},
            )

    await migrate.upgrade(old_db, "0010_home_charts")
    assert await _settings(old_db) == {
        "person:7:kudos.notify-off": "off",
        "person:12:kudos.notify-off": "off",
        "kudos.celebrate:7": "nowhere",
    }

    async with old_db.engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.downgrade(migrate._alembic_config(sync), "0009_charts")
        )
    assert await _settings(old_db) == {
        "kudos.notify-off:7": "off",
        "kudos.notify-off:12": "off",
        "kudos.celebrate:7": "nowhere",
    }
