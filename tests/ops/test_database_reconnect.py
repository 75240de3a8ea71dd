"""A pooled PostgreSQL connection the server has dropped is replaced, not handed to a request.

The pool pings only connections that sat idle (a ping on every checkout cost three round trips
per transaction); this checks that the idle ones are still caught.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

import storage.db
from storage.db import Database
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL connection pool")


async def test_a_connection_killed_while_idle_is_replaced(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with db.read() as unit:
        session = unit.session
        before = (await session.exec(text("SELECT pg_backend_pid()"))).scalar_one()  # type: ignore[call-overload]
    killer = Database(db.url)  # its own pool: `db` keeps exactly the one connection it used
    async with killer.engine.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
    await killer.dispose()

    monkeypatch.setattr(storage.db, "IDLE_PING_SECONDS", 0.0)  # every connection counts as idle
    async with db.write() as unit:
        session = unit.session
        after = (await session.exec(text("SELECT pg_backend_pid()"))).scalar_one()  # type: ignore[call-overload]

    assert after != before
