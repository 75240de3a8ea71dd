"""The queries of `kudos-pulse forget`: bot/ops/forget.py decides what goes, this finds and
changes the rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, delete, func, or_, update
from sqlmodel import col, select

from storage.models import (
    OutboxItem,
    Person,
    Recognition,
    RecognitionRecipient,
    TeamsConversationRef,
    Workspace,
)
from storage.repositories import teams_refs
from storage.unit import Unit

# Ids (or key prefixes) per statement: short IN lists and OR chains keep every plan simple.
CHUNK = 200


def _chunks(items: Sequence[Any]) -> list[Sequence[Any]]:
    return [items[start : start + CHUNK] for start in range(0, len(items), CHUNK)]


async def people_named(
    unit: Unit,
    ids: Sequence[str],
    name: str,
    workspace: str | None = None,
    email_tag: str | None = None,
) -> list[tuple[Person, Workspace, bool]]:
    """People not yet forgotten whose platform id is one of `ids`, whose display name is
    `name` (ignoring case) or whose email digest is `email_tag`, with their workspace (only
    `workspace`, a platform id, when given) and whether the match was by id."""
    by_id = col(Person.external_id).in_(list(ids))
    matches = [by_id]
    if name:
        matches.append(func.lower(col(Person.display_name)) == name.lower())
    if email_tag:
        matches.append(col(Person.email_tag) == email_tag)
    statement = (
        select(Person, Workspace)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .where(or_(*matches), col(Person.forgotten_at).is_(None))
        .order_by(col(Workspace.platform), col(Workspace.external_id), col(Person.external_id))
    )
    if workspace is not None:
        statement = statement.where(Workspace.external_id == workspace)
    rows = (await unit.session.exec(statement)).all()
    # An address names one human, even where two workspaces know them under two ids.
    return [
        (person, place, person.external_id in ids or _same_address(person, email_tag))
        for person, place in rows
    ]


def _same_address(person: Person, email_tag: str | None) -> bool:
    return bool(email_tag) and person.email_tag == email_tag


async def recognitions_worded_by(unit: Unit, person_id: int) -> list[int]:
    """Recognitions whose words are the person's: the ones they gave, and reaction kudos,
    which quote a message of the person they thank."""
    their_messages = select(RecognitionRecipient.recognition_id).where(
        RecognitionRecipient.recipient_id == person_id
    )
    written = or_(
        col(Recognition.giver_id) == person_id,
        (col(Recognition.source) == "reaction") & col(Recognition.id).in_(their_messages),
    )
    found = (await unit.session.exec(select(Recognition.id).where(written))).all()
    return [recognition_id for recognition_id in found if recognition_id is not None]


async def blank_reasons(unit: Unit, recognition_ids: Sequence[int], blank: str) -> None:
    """Replace the reasons, and drop what pointed at the original message."""
    for chunk in _chunks(recognition_ids):
        await unit.session.exec(
            update(Recognition)
            .where(col(Recognition.id).in_(chunk))
            .values(reason=blank, source_ref=None, dedupe_key=None)
        )


async def queued_with_key_prefix(unit: Unit, prefixes: Sequence[str]) -> list[OutboxItem]:
    """Outbox rows whose key starts with any of `prefixes`."""
    found: list[OutboxItem] = []
    for chunk in _chunks(prefixes):
        statement = select(OutboxItem).where(
            or_(*(col(OutboxItem.dedupe_key).startswith(prefix) for prefix in chunk))
        )
        found.extend((await unit.session.exec(statement)).all())
    return found


async def queued_mentioning(unit: Unit, workspace_id: int, text: str) -> list[OutboxItem]:
    """Outbox rows of a workspace whose stored message contains `text` anywhere."""
    statement = select(OutboxItem).where(
        col(OutboxItem.workspace_id) == workspace_id,
        cast(col(OutboxItem.message), Text).contains(text, autoescape=True),
    )
    return list((await unit.session.exec(statement)).all())


async def rewrite_queued(
    unit: Unit,
    item_id: int,
    *,
    message: dict[str, Any] | None = None,
    key: str | None = None,
    status: str | None = None,
    clear_error: bool = False,
) -> None:
    """Change what an outbox row says (and its key or status), keeping the row."""
    values: dict[str, Any] = {}
    if message is not None:
        values["message"] = message
    if key is not None:
        values["dedupe_key"] = key
    if status is not None:
        values["status"] = status
    if clear_error:
        values["last_error"] = None
    await unit.session.exec(
        update(OutboxItem).where(col(OutboxItem.id) == item_id).values(**values)
    )


async def delete_user_references(unit: Unit, workspace_id: int, user_id: str) -> int:
    """The stored conversation references that reach this person directly."""
    result = await unit.session.exec(
        delete(TeamsConversationRef).where(
            col(TeamsConversationRef.workspace_id) == workspace_id,
            col(TeamsConversationRef.scope) == teams_refs.USER,
            col(TeamsConversationRef.key) == user_id,
        )
    )
    return result.rowcount or 0


async def pseudonymise(unit: Unit, person_id: int, pseudonym: str, now: datetime) -> None:
    """The person row stays (counts keep adding up); what identifies them goes."""
    await unit.session.exec(
        update(Person)
        .where(col(Person.id) == person_id)
        .values(
            external_id=pseudonym,
            display_name="",
            timezone=None,
            is_platform_admin=False,
            email_tag=None,
            forgotten_at=now,
        )
    )
