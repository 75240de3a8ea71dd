"""Cross-process dedupe of platform events and interactions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete

from storage.models import ProcessedEvent
from storage.repositories.sql import insert_ignore
from storage.unit import Unit


async def first_sighting(unit: Unit, key: str, now: datetime) -> bool:
    """Record `key`; False when some process recorded it before."""
    return await insert_ignore(unit, ProcessedEvent, {"key": key, "seen_at": now}, ("key",))


async def forget_older_than(unit: Unit, cutoff: datetime) -> int:
    statement = delete(ProcessedEvent).where(col(ProcessedEvent.seen_at) < cutoff)
    result = await unit.session.exec(statement)
    return result.rowcount or 0
