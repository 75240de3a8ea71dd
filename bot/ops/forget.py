"""`kudos-pulse forget USER`: erase one person's personal data, keep every count right.

Rows stay (kudos given and received, team memberships, pulse participation), so totals,
leaderboards and digests add up as before; what identifies or was written by the person
goes: their name and platform id (the person row is pseudonymised), the reasons they wrote
(and the messages of theirs a reaction turned into kudos), their stored conversation
references, and messages addressed to them that still wait in the outbox. Features with
personal data of their own add an eraser with `register_eraser`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import (
    OutboxItem,
    Person,
    Recognition,
    RecognitionRecipient,
    TeamsConversationRef,
    Workspace,
)
from storage.repositories import audit
from storage.repositories import outbox as outbox_rows

ERASED = ""
# (session, person as it was, now) → rows changed; runs in the same transaction.
Eraser = Callable[[AsyncSession, Person, datetime], Awaitable[int]]
_ERASERS: list[tuple[str, Eraser]] = []


def register_eraser(name: str, eraser: Eraser) -> None:
    """A feature's own erasure step (e.g. pulses), run for every person forgotten."""
    _ERASERS.append((name, eraser))


@dataclass
class Forgotten:
    workspace: str
    platform: str
    reasons: int = 0
    references: int = 0
    messages: int = 0
    other: dict[str, int] = field(default_factory=dict)


async def forget(
    db: Database, user_id: str, *, now: datetime, workspace: str | None = None
) -> list[Forgotten]:
    """Forget `user_id` in every workspace (or only `workspace`); [] if nothing is held."""
    statement = (
        select(Person, Workspace)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(Person.external_id == user_id)
    )
    if workspace is not None:
        statement = statement.where(Workspace.external_id == workspace)
    done: list[Forgotten] = []
    async with db.write() as session:
        for person, place in (await session.exec(statement)).all():
            done.append(await _forget_one(session, person, place, now))
    return done


async def _forget_one(
    session: AsyncSession, person: Person, place: Workspace, now: datetime
) -> Forgotten:
    assert person.id is not None and place.id is not None
    result = Forgotten(workspace=place.external_id, platform=place.platform)
    pseudonym = f"forgotten-{person.id}"
    for name, eraser in _ERASERS:
        result.other[name] = await eraser(session, person, now)
    result.reasons = await _erase_reasons(session, person.id)
    result.references = await _erase_references(session, place.id, person.external_id)
    result.messages = await _erase_messages(session, place.id, person, pseudonym)
    await session.exec(
        update(Person)
        .where(col(Person.id) == person.id)
        .values(
            external_id=pseudonym,
            display_name="",
            timezone=None,
            is_platform_admin=False,
            forgotten_at=now,
        )
    )
    await audit.record(
        session,
        workspace_id=place.id,
        actor="cli",
        action="person.forget",
        # Never the id or the name: the audit log must not bring them back.
        detail=(
            f"person #{person.id}: {result.reasons} reasons, {result.references} conversation "
            f"references, {result.messages} messages erased"
        ),
        now=now,
    )
    return result


async def _erase_reasons(session: AsyncSession, person_id: int) -> int:
    """Blank what they wrote: reasons they gave, and their messages quoted by reaction kudos,
    in the recognitions and in the announcements of them (kept in the outbox)."""
    their_messages = select(RecognitionRecipient.recognition_id).where(
        RecognitionRecipient.recipient_id == person_id
    )
    written = or_(
        col(Recognition.giver_id) == person_id,
        (col(Recognition.source) == "reaction") & col(Recognition.id).in_(their_messages),
    )
    ids = list((await session.exec(select(Recognition.id).where(written))).all())
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        await session.exec(
            update(Recognition)
            .where(col(Recognition.id).in_(chunk))
            .values(reason=ERASED, source_ref=None, dedupe_key=None)
        )
        announcements = select(OutboxItem).where(
            or_(*(col(OutboxItem.dedupe_key).startswith(f"kudos:{rid}:") for rid in chunk))
        )
        for item in (await session.exec(announcements)).all():
            await _blank(session, item, item.message.get("audience", {}))
    return len(ids)


async def _blank(session: AsyncSession, item: OutboxItem, audience: dict[str, object]) -> None:
    """Keep the row (its key still stops a repeat), drop the words; unsent ones stay unsent."""
    blank = {"audience": audience, "text": "(erased)", "blocks": [], "replaces": None}
    values: dict[str, object] = {"message": blank, "last_error": None}
    if item.status == outbox_rows.PENDING:
        values["status"] = outbox_rows.CANCELLED
    await session.exec(update(OutboxItem).where(col(OutboxItem.id) == item.id).values(**values))


async def _erase_references(session: AsyncSession, workspace_id: int, user_id: str) -> int:
    result = await session.exec(
        delete(TeamsConversationRef).where(
            col(TeamsConversationRef.workspace_id) == workspace_id,
            col(TeamsConversationRef.scope) == "user",
            col(TeamsConversationRef.key) == user_id,
        )
    )
    return result.rowcount or 0


async def _erase_messages(
    session: AsyncSession, workspace_id: int, person: Person, pseudonym: str
) -> int:
    """Queued messages naming the person: DMs to them are blanked (and cancelled if unsent);
    elsewhere their id and name give way to the pseudonym. Keys ending in their id are
    rewritten the way they would now be built for the pseudonym."""
    user_id = person.external_id
    candidates = select(OutboxItem).where(
        col(OutboxItem.workspace_id) == workspace_id,
        cast(col(OutboxItem.message), Text).contains(user_id, autoescape=True),
    )
    touched = 0
    for item in (await session.exec(candidates)).all():
        audience = item.message.get("audience", {})
        if audience.get("kind") == "direct" and audience.get("user_id") == user_id:
            await _blank(session, item, {"kind": "direct", "user_id": pseudonym})
        else:
            renamed = _rename(item.message, [user_id, person.display_name], pseudonym)
            await session.exec(
                update(OutboxItem).where(col(OutboxItem.id) == item.id).values(message=renamed)
            )
        if item.dedupe_key.endswith(f":{user_id}"):
            new_key = item.dedupe_key.removesuffix(user_id) + pseudonym
            await session.exec(
                update(OutboxItem).where(col(OutboxItem.id) == item.id).values(dedupe_key=new_key)
            )
        touched += 1
    return touched


def _rename(value: Any, names: list[str], pseudonym: str) -> Any:
    """Every whole-word occurrence of the person's id or name in a JSON document, replaced."""
    if isinstance(value, dict):
        return {key: _rename(item, names, pseudonym) for key, item in value.items()}
    if isinstance(value, list):
        return [_rename(item, names, pseudonym) for item in value]
    if isinstance(value, str):
        for name in sorted({n for n in names if len(n) >= 2}, key=len, reverse=True):
            value = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w-])", pseudonym, value)
    return value
