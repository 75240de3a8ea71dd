"""Shared fixtures. TEST_DATABASE_URL selects PostgreSQL; otherwise each test gets a SQLite file."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (all tables on the metadata)
from adapters.console import ConsoleChat, ConsolePlatform
from bot.app import Application
from bot.ops.config import Config, PulseSettings, load_config
from bot.runtime.clock import ManualClock
from storage import migrate
from storage.db import Database

# The harnesses' fixtures (fake Slack, a Teams chat, …), registered for every test module.
pytest_plugins = ["tests.harness.slack", "tests.harness.teams"]

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith("postgresql")
# A Monday, 10:00 UTC: far from midnight in most zones, so "today" is unambiguous.
START = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)


def _reset_postgres() -> None:
    async def reset() -> None:
        db = Database(PG_URL)
        async with db.engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await migrate.upgrade(db)
        await db.dispose()

    asyncio.run(reset())


@pytest.fixture(scope="session")
def _postgres_schema() -> None:
    if ON_POSTGRES:
        _reset_postgres()


@pytest.fixture
def database_url(tmp_path: Path, _postgres_schema: None) -> Iterator[str]:
    if ON_POSTGRES:
        yield PG_URL
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'kudos.db'}"


async def _truncate(db: Database) -> None:
    names = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    async with db.engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    if ON_POSTGRES:
        await _truncate(database)
    else:
        await migrate.upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# Processes the tests start find their pulse key here (never in the developer's home).
os.environ.setdefault(
    "KUDOS_PULSE_KEY_FILE", str(Path(tempfile.mkdtemp(prefix="kudos-test-key-")) / "pulse.key")
)
TEST_PULSE_KEY = "test-only-pulse-key-" + "0123456789abcdef" * 2


def make_config(**overrides: object) -> Config:
    config = load_config(ROOT / "app.yaml", env={})
    pulses = overrides.pop("pulses", config.pulses)
    assert isinstance(pulses, PulseSettings)
    pulses = pulses.model_copy(update={"secret": pulses.secret or TEST_PULSE_KEY})
    return config.model_copy(update={"pulses": pulses, **overrides})


@pytest.fixture
def config() -> Config:
    return make_config()


@pytest.fixture
async def app(config: Config, db: Database, clock: ManualClock) -> AsyncIterator[Application]:
    application = Application(config, clock=clock, db=db)
    yield application
    application.pictures.close()
    for task in asyncio.all_tasks():
        if task is not asyncio.current_task() and "outbox" in repr(task.get_coro()):
            task.cancel()


class ConsoleHarness:
    """Drives the console adapter like a person at the keyboard and keeps what it printed."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.lines: list[str] = []
        self.platform: ConsolePlatform = app.load_adapter("console", out=self.lines.append)
        self.chat = ConsoleChat(app, self.platform, "alice", out=self.lines.append)

    async def say(self, line: str, as_user: str | None = None) -> str:
        if as_user:
            self.chat.user = as_user
        start = len(self.lines)
        await self.chat.say(line)
        return "\n".join(self.lines[start:])


@pytest.fixture
def console(app: Application) -> ConsoleHarness:
    return ConsoleHarness(app)
