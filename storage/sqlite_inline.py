"""SQLite on the event loop's own thread, for SQLAlchemy's aiosqlite dialect.

aiosqlite runs every call — opening a cursor, executing, fetching, closing — in a thread of
its own and wakes the event loop for each result: four hand-offs per statement, each costing
far more than the statement (a small indexed read or insert takes tens of microseconds; a
hand-off ~100 µs of CPU and wall time). With WAL, a read never waits for a writer and this
process lets one writer in at a time (`Database._one_writer`), so almost every statement
finishes at once and can run right here.

The exception is a lock held by another process (a CLI command, a worker process): SQLite
answers SQLITE_BUSY at once (busy timeout 0 here), and that statement is repeated in a
thread with the configured busy timeout, so the event loop never sleeps in SQLite's busy
handler. Reads marked slow (`Database.read(slow=True)`: a digest over many teams) run in a
thread from the start; any other long statement holds the loop for its duration.

The objects below offer the part of aiosqlite's interface that SQLAlchemy's adapter uses,
passed in through `create_async_engine(..., async_creator=...)`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")

BUSY = 5  # SQLITE_BUSY: another connection holds the lock this statement needs


class _Queue:
    """What SQLAlchemy's adapter hands aiosqlite's queue (setting the isolation level): run
    the function now and settle its future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to the awaiting side
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


class InlineCursor:
    def __init__(self, connection: InlineConnection) -> None:
        self._owner = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        if parameters is None:
            await self._owner._run(lambda: self._cursor.execute(sql))
        else:
            await self._owner._run(lambda: self._cursor.execute(sql, parameters))
        await _let_others_run()
        return self

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> InlineCursor:
        await self._owner._run(lambda: self._cursor.executemany(sql, rows))
        await _let_others_run()
        return self

    async def fetchone(self) -> Any:
        return await self._owner._run(self._cursor.fetchone)

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        count = self._cursor.arraysize if size is None else size
        return await self._owner._run(lambda: self._cursor.fetchmany(count))

    async def fetchall(self) -> list[Any]:
        return await self._owner._run(self._cursor.fetchall)

    async def close(self) -> None:
        self._cursor.close()


async def _let_others_run() -> None:
    """One turn of the event loop between statements: a request that arrived meanwhile (an
    acknowledgement to send) waits for one statement, not for a whole transaction."""
    await asyncio.sleep(0)


class InlineConnection:
    def __init__(self, connection: sqlite3.Connection, busy_timeout_ms: int) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection  # SQLAlchemy checks it
        self._tx = _Queue()
        self._busy_timeout_ms = busy_timeout_ms
        # Set per statement by storage/db.py for reads expected to take long: run in a thread.
        self.in_thread = False

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def commit(self) -> None:
        await self._run(self._conn.commit)

    async def rollback(self) -> None:
        await self._run(self._conn.rollback)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def _run(self, work: Callable[[], T]) -> T:
        """`work` now, on this thread; when another process holds the lock, in a thread that
        waits for it (SQLite's busy handler) while the event loop goes on. A statement marked
        slow runs in a thread from the start."""
        if self.in_thread:
            return await asyncio.to_thread(self._waiting_for_lock, work)
        try:
            return work()
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", None) != BUSY:
                raise
        return await asyncio.to_thread(self._waiting_for_lock, work)

    def _waiting_for_lock(self, work: Callable[[], T]) -> T:
        self._conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            return work()
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")


def creator(path: str, busy_timeout_ms: int = 30_000) -> Callable[[], Any]:
    """An `async_creator` for `create_async_engine`: a connection to the SQLite file at
    `path` that runs its statements inline."""

    async def connect() -> InlineConnection:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout=0")
        return InlineConnection(connection, busy_timeout_ms)

    return connect
