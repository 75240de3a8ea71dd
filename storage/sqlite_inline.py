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

Moving the write-ahead log into the database file (a checkpoint: page copies and an fsync)
would by default run inside whichever COMMIT crosses 1,000 log pages, holding the loop for
milliseconds — about one kudos in a hundred waited for it. Here commits never checkpoint
(wal_autocheckpoint=0); a commit at most once a second starts one in a thread instead
(PASSIVE: it waits for nobody and nobody waits for it).

The objects below offer the part of aiosqlite's interface that SQLAlchemy's adapter uses,
passed in through `create_async_engine(..., async_creator=...)`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from typing import Any, TypeVar

T = TypeVar("T")

BUSY = 5  # SQLITE_BUSY: another connection holds the lock this statement needs
CHECKPOINT_EVERY_SECONDS = 1.0
log = logging.getLogger(__name__)


class Checkpointer:
    """Checkpoints one database file in a thread, at most once every
    CHECKPOINT_EVERY_SECONDS, when its connections commit."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._last = float("-inf")
        self._running: asyncio.Future[None] | None = None
        self.done = 0  # checkpoints finished (for tests and curiosity)

    def after_commit(self) -> None:
        if self.path == ":memory:" or self._running is not None:
            return
        now = time.monotonic()
        if now - self._last < CHECKPOINT_EVERY_SECONDS:
            return
        self._last = now
        self._running = asyncio.get_running_loop().run_in_executor(None, self._checkpoint)
        self._running.add_done_callback(self._finished)

    def _checkpoint(self) -> None:
        # A connection of its own: the inline ones belong to the event loop's thread.
        with closing(sqlite3.connect(self.path, isolation_level=None)) as connection:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _finished(self, future: asyncio.Future[None]) -> None:
        self._running = None
        if future.cancelled():
            return
        error = future.exception()
        if error is None:
            self.done += 1
        else:  # the next commit's checkpoint copies what this one could not
            log.debug("sqlite checkpoint of %s failed: %s", self.path, error)


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
    def __init__(
        self,
        connection: sqlite3.Connection,
        busy_timeout_ms: int,
        checkpointer: Checkpointer | None = None,
    ) -> None:
        self._conn = connection
        self.checkpointer = checkpointer
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
        if self.checkpointer is not None:
            self.checkpointer.after_commit()

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

    checkpointer = Checkpointer(path)

    async def connect() -> InlineConnection:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA busy_timeout=0")
        connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job instead
        return InlineConnection(connection, busy_timeout_ms, checkpointer)

    return connect
