from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import bindparam
from sqlmodel import col, delete, select

from storage.models import AppSetting
from storage.repositories.sql import insert_ignore
from storage.unit import Unit


def person_prefix(person_id: int) -> str:
    """Every setting that belongs to one person has a key starting with this (e.g.
    `person:42:kudos.notify-off`), so erasing the person finds them all without knowing
    which features store what (bot/ops/forget.py)."""
    return f"person:{person_id}:"


async def remove_person(unit: Unit, person_id: int) -> int:
    """Deletes every setting of one person; how many there were."""
    statement = delete(AppSetting).where(
        col(AppSetting.key).startswith(person_prefix(person_id), autoescape=True)
    )
    result = await unit.session.exec(statement)
    return result.rowcount or 0


async def get_or_create(unit: Unit, key: str, make: Callable[[], str]) -> str:
    """The stored value for `key`; the first process to ask creates it, the rest read it."""
    await insert_ignore(unit, AppSetting, {"key": key, "value": make()}, ("key",))
    setting = await unit.session.get(AppSetting, key)
    assert setting is not None
    return setting.value


async def find(unit: Unit, key: str) -> str | None:
    setting = await unit.session.get(AppSetting, key)
    return setting.value if setting is not None else None


async def put(unit: Unit, key: str, value: str) -> None:
    """Store `value` under `key`, replacing what was there."""
    setting = await unit.session.get(AppSetting, key)
    if setting is None:
        unit.session.add(AppSetting(key=key, value=value))
    else:
        setting.value = value
        unit.session.add(setting)
    await unit.session.flush()


async def remove(unit: Unit, key: str) -> None:
    setting = await unit.session.get(AppSetting, key)
    if setting is not None:
        await unit.session.delete(setting)
        await unit.session.flush()


# On the table's columns, not the ORM class: read on every kudos, and the ORM's path for the
# same SELECT costs several times the statement.
_SETTINGS = AppSetting.__table__  # type: ignore[attr-defined]
_FIND_MANY = select(_SETTINGS.c.key, _SETTINGS.c.value).where(
    _SETTINGS.c.key.in_(bindparam("keys", expanding=True))
)


async def find_many(unit: Unit, keys: list[str]) -> dict[str, str]:
    """The stored values of those `keys` that have one, in one statement."""
    if not keys:
        return {}
    rows = (await unit.session.exec(_FIND_MANY, params={"keys": list(keys)})).all()
    return {row.key: row.value for row in rows}
