"""Engine and session factory: SQLite pragmas, PostgreSQL pool, read vs. write transactions.

The one place that tells SQLite from PostgreSQL: code elsewhere asks the helpers here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import errors, sqlite_inline
from storage.unit import Unit

_WRITE = "kudos_pulse_write"
# Reads: no BEGIN on SQLite either, like the AUTOCOMMIT reads on PostgreSQL (see __init__).
_READ = "kudos_pulse_read"
# Reads expected to take long (a digest for many teams): on SQLite they run in a thread, so the
# event loop that runs the statements inline (storage/sqlite_inline.py) is not held meanwhile.
_SLOW = "kudos_pulse_slow"
log = logging.getLogger(__name__)


class Database:
    """Owns the async engine. `read()` for queries, `write()` for changes.

    On SQLite a write transaction starts with BEGIN IMMEDIATE, so two writers queue on the
    busy timeout instead of failing when a read lock would have to be upgraded. On PostgreSQL
    both are ordinary READ COMMITTED transactions; writers that must serialise take row locks.
    """

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        options: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            database = parsed.database or ""
            if database and database != ":memory:":
                Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            # Statements run on the event loop's thread, not in aiosqlite's (sqlite_inline.py).
            options["async_creator"] = sqlite_inline.creator(database or ":memory:")
        else:
            # No `pool_pre_ping`: with asyncpg it costs three round trips (BEGIN, a ping,
            # ROLLBACK) on every checkout; `_install_idle_ping` pings only connections that sat
            # idle long enough for the server to have gone away.
            options.update(pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True)
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.is_sqlite:
            _install_sqlite_hooks(self.engine)
        else:
            _install_idle_ping(self.engine)
        # PostgreSQL reads run without BEGIN/ROLLBACK: under READ COMMITTED every statement
        # takes its own snapshot anyway, and each saved round trip is a `send()` the event
        # loop can lose its CPU in on a busy machine (docs/PERFORMANCE.md, Slack section).
        # SQLite reads likewise run without BEGIN (`_on_begin`): each SELECT is its own
        # snapshot, and a read then costs one statement instead of three.
        reads = (
            self.engine.execution_options(**{_READ: True})
            if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._reads = async_sessionmaker(reads, class_=AsyncSession, expire_on_commit=False)
        self._slow_reads = async_sessionmaker(
            reads.execution_options(**{_SLOW: True}), class_=AsyncSession, expire_on_commit=False
        )
        self._single_statements = reads
        self._write_turn = asyncio.Lock() if self.is_sqlite else None
        # Channels `listen` is connected to right now (others are only polled).
        self.listening: set[str] = set()
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        self._writes = async_sessionmaker(
            self._write_engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def backend(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    @asynccontextmanager
    async def read(self, *, slow: bool = False) -> AsyncIterator[Unit]:
        """`slow`: statements that may run long (aggregates over a large workspace); on SQLite
        they leave the event loop's thread."""
        async with (self._slow_reads if slow else self._reads)() as session:
            yield Unit(session)

    @asynccontextmanager
    async def write(self, *, one_statement: bool = False) -> AsyncIterator[Unit]:
        """A transaction that commits on success and rolls back on any exception; a unique-key
        conflict leaves it as `storage.errors.Duplicate`.

        `one_statement`: the caller runs a single statement, atomic by itself; it then runs
        without BEGIN and COMMIT — on PostgreSQL one round trip instead of three."""
        if one_statement:
            # No BEGIN and COMMIT around it (on SQLite still one writer at a time).
            with _storage_errors():
                async with self._one_writer(), self._reads() as session:
                    yield Unit(session)
            return
        with _storage_errors():
            async with self._one_writer(), self._writes() as session, session.begin():
                yield Unit(session)

    @asynccontextmanager
    async def write_connection(
        self, *, one_statement: bool = False
    ) -> AsyncIterator[AsyncConnection]:
        """A write transaction without the ORM session, for hot paths that run plain SQL.

        `one_statement`: the caller runs a single statement, atomic by itself; it then runs
        without BEGIN and COMMIT — on PostgreSQL one round trip instead of three."""
        if one_statement:
            async with self._one_writer(), self._single_statements.connect() as connection:
                yield connection
            return
        async with self._one_writer(), self._write_engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def _one_writer(self) -> AsyncIterator[None]:
        """SQLite has one writer at a time: within a process, writers queue here, in order,
        instead of in SQLite's busy handler, which sleeps up to 100 ms between attempts."""
        if self._write_turn is None:
            yield
            return
        async with self._write_turn:
            yield

    async def compact(self, table: str) -> None:
        """Leave no old row versions of `table` behind (docs/PRIVACY.md): PostgreSQL rewrites
        it into a new file (VACUUM FULL; the table is kept small), SQLite already zeroes
        freed space (secure_delete) and here moves its WAL back into the database file."""
        if self.is_sqlite:
            statement = "PRAGMA wal_checkpoint(TRUNCATE)"
        else:
            statement = f'VACUUM FULL "{table}"'
        async with self._one_writer(), self.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.exec_driver_sql(statement)

    async def listen(
        self, channel: str, on_notify: Callable[[], None], stop: asyncio.Event
    ) -> None:
        """Until `stop`: call `on_notify` whenever another process announces on `channel`
        (PostgreSQL LISTEN on a connection of its own, reconnecting after a loss). Returns at
        once on SQLite, which has no such thing: its callers keep polling."""
        if self.is_sqlite:
            return
        pause = 0.5
        while not stop.is_set():
            try:
                connection = await asyncpg.connect(_driver_url(self.url))
            except (OSError, asyncpg.PostgresError) as error:
                log.warning("listen %s: cannot connect (%s); retrying", channel, error)
            else:
                pause = 0.5
                await self._listen_on(connection, channel, on_notify, stop)
                if stop.is_set():
                    return
                log.warning("listen %s: connection lost; reconnecting", channel)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
            pause = min(pause * 2, 30.0)

    async def _listen_on(
        self,
        connection: asyncpg.Connection,
        channel: str,
        on_notify: Callable[[], None],
        stop: asyncio.Event,
    ) -> None:
        """Listen on one connection until `stop` or until the connection is lost."""
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(channel, lambda *_args: on_notify())
            self.listening.add(channel)
            on_notify()  # anything announced while nobody listened is due now
            waiters = [asyncio.ensure_future(event.wait()) for event in (stop, lost)]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("listen %s: %s", channel, error)
        finally:
            self.listening.discard(channel)
            if not connection.is_closed():
                with suppress(Exception):
                    await connection.close(timeout=2)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


# SQLSTATE of a unique-key conflict on PostgreSQL; SQLite names it in the error itself.
_PG_UNIQUE_VIOLATION = "23505"
_SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


@contextmanager
def _storage_errors() -> Iterator[None]:
    """A unique-key conflict raised inside becomes `Duplicate`; anything else passes."""
    try:
        yield
    except exc.IntegrityError as error:
        driver_error = error.orig
        if (
            getattr(driver_error, "sqlstate", None) == _PG_UNIQUE_VIOLATION
            or getattr(driver_error, "sqlite_errorname", None) in _SQLITE_UNIQUE
        ):
            raise errors.Duplicate(str(driver_error)) from error
        raise


def insert_for(dialect: str) -> Any:
    """The dialect's INSERT construct: both offer ON CONFLICT, with the same meaning."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def missing_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist yet (opening it would create it)."""
    parsed = make_url(url)
    name = parsed.database
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:":
        return None
    path = Path(name)
    return None if path.exists() else path


def _driver_url(url: str) -> str:
    """The URL asyncpg itself takes (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def single_writer(url: str) -> bool:
    """Whether the database lets one process write at a time (SQLite): worker processes
    would only queue for it."""
    return url.startswith("sqlite")


def same_database(url: str, other: str) -> bool:
    return make_url(url) == make_url(other)


def shown_url(url: str) -> str:
    """The URL as it may be printed: without its password."""
    return make_url(url).render_as_string(hide_password=True)


# A connection back in use within this many seconds is not pinged (under load: never).
IDLE_PING_SECONDS = 5.0


def _install_idle_ping(engine: AsyncEngine) -> None:
    """Pessimistic disconnect handling for idle connections only (SQLAlchemy's documented
    checkout-event recipe): a dead one invalidates the pool and the checkout reconnects."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["kudos_pulse_idle_since"] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("kudos_pulse_idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise exc.InvalidatePoolError() from error


def _install_sqlite_hooks(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event, not the driver, decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted content is overwritten, not left in free pages (docs/PRIVACY.md).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _on_statement(
        connection: Connection, _cursor: Any, _sql: Any, _params: Any, _context: Any, _many: Any
    ) -> None:
        inline = getattr(connection.connection.dbapi_connection, "_connection", None)
        if isinstance(inline, sqlite_inline.InlineConnection):
            inline.in_thread = bool(connection.get_execution_options().get(_SLOW))

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return  # e.g. a checkpoint, which must run outside any transaction
        if options.get(_READ):
            return  # a read: each statement its own snapshot (no BEGIN, no ROLLBACK to send)
        immediate = options.get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
