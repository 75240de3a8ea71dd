"""Cross-process dedupe of platform events and interactions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ProcessedEvent
from storage.repositories.sql import insert_ignore


async def first_sighting(session: AsyncSession, key: str, now: datetime) -> bool:
    """Record `key`; False when some process recorded it before."""
    return await insert_ignore(session, ProcessedEvent, {"key": key, "seen_at": now}, ("key",))


async def forget_older_than(session: AsyncSession, cutoff: datetime) -> int:
    result = await session.exec(delete(ProcessedEvent).where(col(ProcessedEvent.seen_at) < cutoff))
    return result.rowcount or 0
