"""SQLite statements run on the event loop's thread; one that must wait for another process's
lock waits in a thread, so the loop (and every acknowledgement on it) goes on meanwhile."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage import sqlite_inline
from storage.db import Database
from storage.repositories import settings

pytestmark = pytest.mark.asyncio


class _Ticker:
    """Counts the event loop's turns every 10 ms while it runs: a loop held by a statement
    does not tick."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.01)
            self.ticks += 1

    def __enter__(self) -> _Ticker:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def _sqlite_file(db: Database, why_not_postgresql: str) -> str:
    """The test database's file; the test is skipped on PostgreSQL."""
    if not db.is_sqlite:
        pytest.skip(f"SQLite only: {why_not_postgresql}")
    path = make_url(db.url).database
    assert path
    return path


async def test_a_write_waits_for_another_process_lock_without_stopping_the_loop(
    db: Database,
) -> None:
    path = _sqlite_file(db, "PostgreSQL has its own driver")
    held = threading.Event()

    def other_process_writes_for_a_while() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO app_settings (key, value) VALUES ('other', 'first')")
        held.set()
        time.sleep(0.4)
        other.execute("COMMIT")
        other.close()

    holder = threading.Thread(target=other_process_writes_for_a_while)
    holder.start()
    await asyncio.to_thread(held.wait)
    with _Ticker() as ticker:
        started = time.monotonic()
        async with db.write() as unit:
            await settings.put(unit, "ours", "after the other")
        waited = time.monotonic() - started
    holder.join()

    assert waited >= 0.2  # it did wait for the lock …
    assert ticker.ticks >= 10  # … while the loop kept turning
    async with db.read() as unit:
        stored = await settings.find_many(unit, ["other", "ours"])
    assert stored == {"other": "first", "ours": "after the other"}


async def test_an_error_is_the_driver_error_and_the_connection_stays_usable(
    db: Database,
) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")
    with pytest.raises(Exception, match="no such table"):
        async with db.read() as unit:
            await unit.session.exec(text("SELECT * FROM missing_table"))  # type: ignore[call-overload]
    async with db.write() as unit:
        await settings.put(unit, "still", "works")
    async with db.read() as unit:
        assert await settings.find(unit, "still") == "works"


async def test_a_read_marked_slow_leaves_the_loop_free_and_an_ordinary_one_does_not(
    db: Database,
) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite only")

    async def ticks_during(slow: bool) -> int:
        async with db.read(slow=slow) as unit:
            connection = await unit.session.connection()
            raw = await connection.get_raw_connection()
            # A statement that takes 0.3 s, as a digest over a large workspace might.
            raw.driver_connection._conn.create_function(
                "take_ms", 1, lambda ms: time.sleep(ms / 1000) or 1
            )
            with _Ticker() as ticker:
                await asyncio.sleep(0)
                result = await unit.session.exec(text("SELECT take_ms(300)"))  # type: ignore[call-overload]
                assert result.scalar_one() == 1
        return ticker.ticks

    assert await ticks_during(slow=True) >= 10  # the loop went on while it ran
    assert await ticks_during(slow=False) <= 2  # inline: the loop waited for it


async def test_commits_leave_the_checkpoint_to_a_thread_and_it_reaches_the_file(
    db: Database,
) -> None:
    path = _sqlite_file(db, "PostgreSQL has no write-ahead log file to copy")
    async with db.read() as unit:
        connection = await unit.session.connection()
        raw = await connection.get_raw_connection()
        inline = raw.driver_connection
        automatic = (await unit.session.exec(text("PRAGMA wal_autocheckpoint"))).scalar_one()  # type: ignore[call-overload]
    assert automatic == 0  # no COMMIT copies the log into the file on the loop's thread
    checkpointer = inline.checkpointer
    await asyncio.sleep(sqlite_inline.CHECKPOINT_EVERY_SECONDS)  # the migration's one is old
    before = checkpointer.done

    async with db.write() as unit:
        for number in range(300):
            await settings.put(unit, f"checkpointed-{number}", "x" * 200)

    # The file alone (the log ignored) holds the rows once the thread's checkpoint finished.
    for _ in range(100):
        if checkpointer.done > before:
            break
        await asyncio.sleep(0.02)
    assert checkpointer.done > before
    file_only = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        (count,) = file_only.execute(
            "SELECT count(*) FROM app_settings WHERE key LIKE 'checkpointed-%'"
        ).fetchone()
    finally:
        file_only.close()
    assert count == 300
