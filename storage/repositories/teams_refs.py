"""Stored Bot Framework conversation references (one per tenant+user and per channel)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select

from storage.models import TeamsConversationRef
from storage.repositories.sql import upsert
from storage.unit import Unit

USER = "user"
CHANNEL = "channel"


async def save(
    unit: Unit,
    workspace_id: int,
    scope: str,
    key: str,
    reference: dict[str, Any],
    now: datetime,
) -> None:
    """Insert or refresh the reference for (workspace, scope, key); the newest one wins."""
    await upsert(
        unit,
        TeamsConversationRef,
        {
            "workspace_id": workspace_id,
            "scope": scope,
            "key": key,
            "reference": reference,
            "updated_at": now,
        },
        ("workspace_id", "scope", "key"),
        ("reference", "updated_at"),
    )


async def find(unit: Unit, workspace_id: int, scope: str, key: str) -> dict[str, Any] | None:
    statement = select(TeamsConversationRef.reference).where(
        TeamsConversationRef.workspace_id == workspace_id,
        TeamsConversationRef.scope == scope,
        TeamsConversationRef.key == key,
    )
    return (await unit.session.exec(statement)).first()


async def latest(
    unit: Unit, workspace_id: int, scope: str | None = None, limit: int = 1
) -> list[dict[str, Any]]:
    """The most recently refreshed references of a workspace (optionally of one scope)."""
    statement = select(TeamsConversationRef.reference).where(
        TeamsConversationRef.workspace_id == workspace_id
    )
    if scope is not None:
        statement = statement.where(TeamsConversationRef.scope == scope)
    statement = statement.order_by(
        col(TeamsConversationRef.updated_at).desc(), col(TeamsConversationRef.id).desc()
    ).limit(limit)
    return list((await unit.session.exec(statement)).all())
