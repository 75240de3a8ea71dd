"""Upgrading a database written by the previous version: its linkable answer data is gone,
what it told is kept as tallies, and pulses go on working (docs/PRIVACY.md, migration 0005)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage import migrate
from storage.db import Database
from tests.conftest import ON_POSTGRES, ConsoleHarness
from tests.e2e import attacker
from tests.harness.postgres import as_admin, database_url

OLD_HEADS = ("0002_pulses", "0003_digests", "0004_inbox")
PEOPLE = ["admin", "bob", "carol", "dan", "erin", "frank", "gina"]
# Round 1 closed with six answers; round 2 is open with three.
CLOSED_ANSWERS = [(5, 4, "closed-one"), (4, 4, None), (5, 5, "closed-two"), (2, 3, None),
                  (4, 5, None), (3, 4, None)]  # fmt: skip
OPEN_ANSWERS = [(1, 2, "open-one"), (2, 2, None), (5, 1, None)]


@pytest.fixture
async def old_db(tmp_path: Path) -> AsyncIterator[Database]:
    if not ON_POSTGRES:
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        yield database
        await database.dispose()
        return
    name = f"kp_upgrade_{uuid.uuid4().hex[:8]}"
    await as_admin(f'CREATE DATABASE "{name}"')
    database = Database(database_url(name))
    yield database
    await database.dispose()
    await as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _write_old_version_data(db: Database) -> None:
    for head in OLD_HEADS:
        await migrate.upgrade(db, head)
    # Real time: the upgrade closes rounds open at the moment it runs.
    now = datetime.now(UTC).replace(tzinfo=None)
    statements = [
        "INSERT INTO workspaces (id, platform, external_id, name, created_at) "
        "VALUES (1, 'console', 'local', '', :now)",
        *(
            "INSERT INTO people (id, workspace_id, external_id, display_name, is_bot, "
            f"is_platform_admin, refreshed_at) VALUES ({n}, 1, '{p}', '{p}', false, false, :now)"
            for n, p in enumerate(PEOPLE, start=1)
        ),
        "INSERT INTO pulse_schedules (id, workspace_id, owner_id, subject, audience, timezone, "
        "open_minutes, status, created_at) VALUES (1, 1, 1, 'old', "
        """'{"kind": "users", "user_ids": []}', 'UTC', 60, 'done', :now)""",
        "INSERT INTO pulse_rounds (id, schedule_id, workspace_id, subject, scheduled_for, "
        "closes_at, reminded, closed, invited) VALUES "
        "(1, 1, 1, 'old closed', :before, :before, true, true, 6), "
        "(2, 1, 1, 'old open', :now, :later, false, false, 6)",
        "INSERT INTO app_settings (key, value) VALUES ('pulses.secret', 'the-old-key-in-the-db')",
    ]
    params = {"now": now, "before": now - timedelta(days=7), "later": now + timedelta(hours=5)}
    async with db.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement), params)
        for round_id, answers in ((1, CLOSED_ANSWERS), (2, OPEN_ANSWERS)):
            for n in range(2, 8):
                await connection.execute(
                    text(
                        "INSERT INTO pulse_deliveries (round_id, person_id, answered) "
                        "VALUES (:r, :p, :a)"
                    ),
                    {"r": round_id, "p": n, "a": n - 2 < len(answers)},
                )
            for n, (easy, value, comment) in enumerate(answers):
                await connection.execute(
                    text(
                        "INSERT INTO pulse_responses (round_id, respondent, easy, value, comment) "
                        "VALUES (:r, :who, :e, :v, :c)"
                    ),
                    {"r": round_id, "who": f"hmac-of-person-{n}", "e": easy, "v": value, "c": comment},
                )


async def test_upgrading_keeps_tallies_and_drops_everything_linkable(
    old_db: Database, config: Config
) -> None:
    await _write_old_version_data(old_db)
    await migrate.upgrade(old_db)
    assert await migrate.current_revisions(old_db) == migrate.head_revisions()
    assert len(migrate.head_revisions()) == 1  # one head: the branches are joined

    dump = await attacker.rows(old_db)
    assert "pulse_responses" not in dump or not dump["pulse_responses"]
    everything = attacker.strings_in(dump)
    assert "hmac-of-person" not in everything and "the-old-key-in-the-db" not in everything
    async with old_db.engine.connect() as connection:
        tables = await connection.run_sync(
            lambda sync: __import__("sqlalchemy").inspect(sync).get_table_names()
        )
        columns = await connection.run_sync(
            lambda sync: [
                c["name"]
                for c in __import__("sqlalchemy").inspect(sync).get_columns("pulse_deliveries")
            ]
        )
    assert "pulse_responses" not in tables
    assert sorted(columns) == ["person_id", "round_id"]
    if ON_POSTGRES:  # the rebuilt table carries no bytes of the dropped column
        raw = await attacker.raw_pages(old_db, "pulse_deliveries")
        assert raw and b"hmac-of-person" not in raw

    # The bot runs on the upgraded database: the closed round is judged, the open one (closed
    # at the upgrade) closes on the first tick with the answers it had.
    clock = ManualClock(datetime.now(UTC) + timedelta(minutes=1))
    app = Application(config, clock=clock, db=old_db)
    console = ConsoleHarness(app)
    await app.scheduler.tick()
    await app.outbox.drain()
    first = await console.say("/pulse results 1", as_user="admin")
    assert "6 of 6 answered" in first and "EASY: 3.8 / 5" in first
    second = await console.say("/pulse results 2", as_user="admin")
    assert "3 of 6 answered" in second and "EASY:" not in second
    assert "open-one" not in attacker.strings_in(await attacker.rows(old_db))
