from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import col, select

from storage.models import Person
from storage.repositories.sql import dialect_of, upsert_returning
from storage.unit import Unit

# Built once: the person look-up runs on every command (storage/repositories/sql.py).
_FIND = select(Person).where(
    Person.workspace_id == bindparam("workspace_id"),
    Person.external_id == bindparam("external_id"),
)
_LOCK = select(Person.id).where(Person.id == bindparam("person_id")).with_for_update()


async def find(unit: Unit, workspace_id: int, external_id: str) -> Person | None:
    params = {"workspace_id": workspace_id, "external_id": external_id}
    return (await unit.session.exec(_FIND, params=params)).first()


async def get(unit: Unit, person_id: int) -> Person | None:
    return await unit.session.get(Person, person_id)


async def find_many(
    unit: Unit, workspace_id: int, external_ids: Iterable[str]
) -> dict[str, Person]:
    ids = list(external_ids)
    if not ids:
        return {}
    statement = select(Person).where(
        Person.workspace_id == workspace_id, col(Person.external_id).in_(ids)
    )
    return {person.external_id: person for person in (await unit.session.exec(statement)).all()}


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
    person: Person = await upsert_returning(
        unit,
        Person,
        values,
        conflict=("workspace_id", "external_id"),
        update=(*updated, "refreshed_at"),
    )
    return person


async def lock(unit: Unit, person_id: int) -> None:
    """Serialise writers acting for one person (a row lock on PostgreSQL; SQLite's single
    writer already serialises the whole write transaction)."""
    if dialect_of(unit) != "sqlite":  # one statement fewer where it would change nothing
        await unit.session.exec(_LOCK, params={"person_id": person_id})
