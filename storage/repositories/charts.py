"""Drawn charts waiting to be fetched by a Teams client (adapters/teams/charts.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col

from storage.models import ChartImage
from storage.unit import Unit


async def save(unit: Unit, chart_id: str, png: bytes, now: datetime, expires_at: datetime) -> None:
    """Store one chart, and drop the expired ones: nobody may fetch them any more."""
    await unit.session.exec(delete(ChartImage).where(col(ChartImage.expires_at) < now))
    unit.session.add(ChartImage(id=chart_id, png=png, created_at=now, expires_at=expires_at))


async def find(unit: Unit, chart_id: str, now: datetime) -> bytes | None:
    image = await unit.session.get(ChartImage, chart_id)
    if image is None or image.expires_at <= now:
        return None
    return image.png
