"""Small helpers the tests share: counting what was stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import select

from storage.db import Database
from storage.models import OutboxItem, Recognition, RecognitionRecipient


async def count(db: Database, model: Any, *where: Any) -> int:
    async with db.read() as unit:
        session = unit.session
        statement = select(func.count()).select_from(model)
        for condition in where:
            statement = statement.where(condition)
        return (await session.exec(statement)).one()


async def stored_kudos(db: Database) -> tuple[int, int, int]:
    """(recognitions, recipient-awards, outbox rows) — all zero after a refusal."""
    return (
        await count(db, Recognition),
        await count(db, RecognitionRecipient),
        await count(db, OutboxItem),
    )


async def sealed_answers(app: Any, round_id: int) -> int:
    """How many answers an open round's sealed buckets hold — readable only with the key,
    which the test (an insider) takes from the running bot."""
    from storage.repositories import pulses as repo

    box = app.pulses.rounds.box
    async with app.db.read() as session:
        buckets = await repo.ballots(session, round_id)
    return sum(len(box.open(round_id, bucket, sealed)) for bucket, sealed in buckets)


async def pulse_round(db: Database, round_id: int) -> Any:
    from storage.models import PulseRound

    async with db.read() as unit:
        return await unit.session.get(PulseRound, round_id)
