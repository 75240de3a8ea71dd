"""The audit log: who did what administrative thing, and when (never pulse answers)."""

from __future__ import annotations

from datetime import datetime

from storage.models import AuditEntry
from storage.unit import Unit


async def record(
    unit: Unit,
    *,
    workspace_id: int | None,
    actor: str,
    action: str,
    detail: str = "",
    now: datetime,
) -> None:
    """Add one entry in the caller's transaction, so it exists exactly when the change does.

    `actor` is a platform user id or "cli"; `action` a short verb such as "pulse.schedule"."""
    unit.session.add(
        AuditEntry(
            workspace_id=workspace_id, actor=actor, action=action, detail=detail, created_at=now
        )
    )
