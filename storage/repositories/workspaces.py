from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import select

from storage.models import Workspace
from storage.repositories.sql import insert_ignore
from storage.unit import Unit


async def ensure(
    unit: Unit, platform: str, external_id: str, now: datetime, name: str = ""
) -> Workspace:
    await insert_ignore(
        unit,
        Workspace,
        {"platform": platform, "external_id": external_id, "name": name, "created_at": now},
        ("platform", "external_id"),
    )
    found = await find(unit, platform, external_id)
    assert found is not None
    return found


async def find(unit: Unit, platform: str, external_id: str) -> Workspace | None:
    statement = select(Workspace).where(
        Workspace.platform == platform, Workspace.external_id == external_id
    )
    return (await unit.session.exec(statement)).first()


async def get(unit: Unit, workspace_id: int) -> Workspace | None:
    return await unit.session.get(Workspace, workspace_id)


async def id_of(unit: Unit, external_id: str) -> int | None:
    """The id of the workspace with this platform id (Slack team, Teams tenant, console)."""
    statement = select(Workspace.id).where(Workspace.external_id == external_id)
    return (await unit.session.exec(statement)).first()


async def first_id(unit: Unit, platform: str) -> int | None:
    """The id of the first workspace of `platform` the bot came to know."""
    statement = select(func.min(Workspace.id)).where(Workspace.platform == platform)
    return (await unit.session.exec(statement)).one()
