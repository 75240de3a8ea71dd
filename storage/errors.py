"""Storage's own errors, so code above storage never catches a SQLAlchemy exception."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError


class StorageError(Exception):
    """A database operation failed in a way storage recognises."""


class Duplicate(StorageError):
    """A write met a row with the same unique key: someone stored it first."""


def is_database_error(error: BaseException) -> bool:
    """Database errors and the socket/timeout errors a lost database connection raises."""
    return isinstance(error, StorageError | SQLAlchemyError | OSError | TimeoutError)
