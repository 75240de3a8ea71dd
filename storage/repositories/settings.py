from __future__ import annotations

from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AppSetting
from storage.repositories.sql import insert_ignore


async def get_or_create(session: AsyncSession, key: str, make: Callable[[], str]) -> str:
    """The stored value for `key`; the first process to ask creates it, the rest read it."""
    await insert_ignore(session, AppSetting, {"key": key, "value": make()}, ("key",))
    setting = await session.get(AppSetting, key)
    assert setting is not None
    return setting.value


async def find(session: AsyncSession, key: str) -> str | None:
    setting = await session.get(AppSetting, key)
    return setting.value if setting is not None else None
