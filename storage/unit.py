"""The unit of work: one transaction, handed from `Database` to repository functions.

Bot code opens one with `Database.read()` or `Database.write()` and passes it on without
looking inside; only storage reaches the ORM session it wraps. That is what keeps SQLAlchemy
and SQLModel out of `bot/` (tests/unit/test_architecture.py).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession


class Unit:
    """One read session or write transaction. Repositories use `session`; nobody else should."""

    __slots__ = ("session",)

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
