from __future__ import annotations

from collections.abc import Callable

from storage.models import AppSetting
from storage.repositories.sql import insert_ignore
from storage.unit import Unit


async def get_or_create(unit: Unit, key: str, make: Callable[[], str]) -> str:
    """The stored value for `key`; the first process to ask creates it, the rest read it."""
    await insert_ignore(unit, AppSetting, {"key": key, "value": make()}, ("key",))
    setting = await unit.session.get(AppSetting, key)
    assert setting is not None
    return setting.value


async def find(unit: Unit, key: str) -> str | None:
    setting = await unit.session.get(AppSetting, key)
    return setting.value if setting is not None else None
