"""Storage's own errors, so code above storage never catches a SQLAlchemy exception."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

# SQLSTATE of a unique-key conflict on PostgreSQL; SQLite names it in the error itself.
_PG_UNIQUE_VIOLATION = "23505"
_SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


class StorageError(Exception):
    """A database operation failed in a way storage recognises."""


class Duplicate(StorageError):
    """A write met a row with the same unique key: someone stored it first."""


def is_database_error(error: BaseException) -> bool:
    """Database errors and the socket/timeout errors a lost database connection raises."""
    return isinstance(error, StorageError | SQLAlchemyError | OSError | TimeoutError)


@contextmanager
def translated() -> Iterator[None]:
    """Turn a unique-key conflict raised inside into `Duplicate`; anything else passes."""
    try:
        yield
    except IntegrityError as error:
        if _is_unique_violation(error):
            raise Duplicate(str(error.orig)) from error
        raise


def _is_unique_violation(error: IntegrityError) -> bool:
    driver_error = error.orig
    if getattr(driver_error, "sqlstate", None) == _PG_UNIQUE_VIOLATION:
        return True
    return getattr(driver_error, "sqlite_errorname", None) in _SQLITE_UNIQUE
