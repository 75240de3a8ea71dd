"""The test PostgreSQL server as its administrator sees it: statements run outside any test
database (creating and dropping databases, refusing connections), and URLs of new databases."""

from __future__ import annotations

import asyncpg

from tests.conftest import PG_URL

_SERVER = PG_URL.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]


async def as_admin(*statements: str) -> None:
    """Run each statement on the server's `postgres` database, in order."""
    connection = await asyncpg.connect(f"{_SERVER}/postgres")
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def database_url(name: str) -> str:
    """The application's URL for database `name` on the test server."""
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"
