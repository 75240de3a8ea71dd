from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Workspace
from storage.repositories.sql import insert_ignore


async def ensure(
    session: AsyncSession, platform: str, external_id: str, now: datetime, name: str = ""
) -> Workspace:
    await insert_ignore(
        session,
        Workspace,
        {"platform": platform, "external_id": external_id, "name": name, "created_at": now},
        ("platform", "external_id"),
    )
    found = await find(session, platform, external_id)
    assert found is not None
    return found


async def find(session: AsyncSession, platform: str, external_id: str) -> Workspace | None:
    statement = select(Workspace).where(
        Workspace.platform == platform, Workspace.external_id == external_id
    )
    return (await session.exec(statement)).first()


async def get(session: AsyncSession, workspace_id: int) -> Workspace | None:
    return await session.get(Workspace, workspace_id)
