from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import col, select

from storage.models import Person
from storage.repositories.sql import dialect_of, upsert_returning
from storage.unit import Unit

# The look-ups every command makes run as plain SQL on the table, built once, and their rows
# become Person records directly: SQLAlchemy's ORM path for the same SELECT costs several
# times the statement (storage/repositories/sql.py, docs/PERFORMANCE.md).
_PEOPLE = Person.__table__  # type: ignore[attr-defined]
_FIND = core_select(_PEOPLE).where(
    _PEOPLE.c.workspace_id == bindparam("workspace_id"),
    _PEOPLE.c.external_id == bindparam("external_id"),
)
_FIND_MANY = core_select(_PEOPLE).where(
    _PEOPLE.c.workspace_id == bindparam("workspace_id"),
    _PEOPLE.c.external_id.in_(bindparam("external_ids", expanding=True)),
)
_LOCK = select(Person.id).where(Person.id == bindparam("person_id")).with_for_update()


def _person(row: Any) -> Person:
    """A record of the row, attached to no session (like every Person bot code holds)."""
    return Person(**row._mapping)


async def find(unit: Unit, workspace_id: int, external_id: str) -> Person | None:
    params = {"workspace_id": workspace_id, "external_id": external_id}
    row = (await unit.session.exec(_FIND, params=params)).first()
    return None if row is None else _person(row)


async def get(unit: Unit, person_id: int) -> Person | None:
    return await unit.session.get(Person, person_id)


async def find_many(
    unit: Unit, workspace_id: int, external_ids: Iterable[str]
) -> dict[str, Person]:
    ids = list(external_ids)
    if not ids:
        return {}
    params = {"workspace_id": workspace_id, "external_ids": ids}
    rows = (await unit.session.exec(_FIND_MANY, params=params)).all()
    return {row.external_id: _person(row) for row in rows}


async def by_ids(unit: Unit, person_ids: Iterable[int]) -> dict[int, Person]:
    ids = list(person_ids)
    if not ids:
        return {}
    statement = select(Person).where(col(Person.id).in_(ids))
    return {person.id: person for person in (await unit.session.exec(statement)).all() if person.id}


async def save(
    unit: Unit,
    workspace_id: int,
    external_id: str,
    *,
    display_name: str,
    timezone: str | None,
    is_bot: bool,
    is_platform_admin: bool,
    now: datetime,
    is_external: bool = False,
    email_tag: str | None = None,
) -> Person:
    values = {
        "workspace_id": workspace_id,
        "external_id": external_id,
        "display_name": display_name,
        "timezone": timezone,
        "is_bot": is_bot,
        "is_platform_admin": is_platform_admin,
        "is_external": is_external,
        "refreshed_at": now,
    }
    updated = ["display_name", "timezone", "is_bot", "is_platform_admin", "is_external"]
    if email_tag is not None:  # a look-up without the address keeps the one we had
        values["email_tag"] = email_tag
        updated.append("email_tag")
    row = await upsert_returning(
        unit,
        _PEOPLE,
        values,
        conflict=("workspace_id", "external_id"),
        update=(*updated, "refreshed_at"),
    )
    return _person(row)


async def lock(unit: Unit, person_id: int) -> None:
    """Serialise writers acting for one person (a row lock on PostgreSQL; SQLite's single
    writer already serialises the whole write transaction)."""
    if dialect_of(unit) != "sqlite":  # one statement fewer where it would change nothing
        await unit.session.exec(_LOCK, params={"person_id": person_id})
