from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, insert, true
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql
from sqlmodel import col, select

from storage.models import AppSetting, Person, Recognition, RecognitionRecipient, RecognitionTag
from storage.repositories.sql import bound_parameters as _bound
from storage.repositories.sql import dialect_of, prepared
from storage.unit import Unit


@dataclass(frozen=True)
class NewRecognition:
    workspace_id: int
    giver_id: int
    recipient_ids: tuple[int, ...]
    reason: str
    tags: tuple[str, ...]
    channel_id: str | None
    source: str
    source_ref: str | None
    dedupe_key: str | None
    created_at: datetime
    giver_day: date


_GIVEN = Recognition.__table__  # type: ignore[attr-defined]
_RECEIVED = RecognitionRecipient.__table__  # type: ignore[attr-defined]
# On the tables, not the ORM classes: read in every kudos' transaction (people.py says why).
_AWARDS_ON_DAY = (
    core_select(func.count())
    .select_from(_RECEIVED)
    .join(_GIVEN, _GIVEN.c.id == _RECEIVED.c.recognition_id)
    .where(
        _GIVEN.c.giver_id == bindparam("giver_id"),
        _GIVEN.c.giver_day == bindparam("day"),
        _GIVEN.c.revoked_at.is_(None),
    )
)


async def awards_on_day(unit: Unit, giver_id: int, day: date) -> int:
    """Recipient-awards a giver made on their local `day`, revoked ones not counted."""
    params = {"giver_id": giver_id, "day": day}
    return int((await unit.session.exec(_AWARDS_ON_DAY, params=params)).scalar_one())


async def awards_on_day_and_settings(
    unit: Unit, giver_id: int, day: date, keys: list[str]
) -> tuple[int, dict[str, str]]:
    """`awards_on_day` and the stored values of those settings `keys` that have one, in one
    statement (a kudos' transaction needs both; each statement saved is a round trip)."""
    params: dict[str, Any] = {"giver_id": giver_id, "day": day}
    params.update({f"key_{number}": key for number, key in enumerate(keys)})
    key = ("awards_and_settings", len(keys))
    statement = prepared(dialect_of(unit), key, _with_settings(len(keys)))
    row = (await unit.session.exec(statement, params=params)).one()
    used, *values = row
    return int(used), {
        key: value for key, value in zip(keys, values, strict=True) if value is not None
    }


def _with_settings(count: int) -> Any:
    def build(_dialect: str) -> Any:
        settings = AppSetting.__table__  # type: ignore[attr-defined]
        values = [
            core_select(settings.c.value)
            .where(settings.c.key == bindparam(f"key_{number}"))
            .scalar_subquery()
            for number in range(count)
        ]
        return core_select(_AWARDS_ON_DAY.scalar_subquery(), *values)

    return build


_RECOGNITION = Recognition.__table__  # type: ignore[attr-defined]
_RECORDED = tuple(column.key for column in _RECOGNITION.columns if column.key != "id")
# Plain inserts, built once: a kudos is three INSERTs, not ORM objects flushed twice.
_INSERT_RECOGNITION = insert(_RECOGNITION).values(_bound(_RECORDED)).returning(_RECOGNITION.c.id)
_INSERT_RECIPIENTS = insert(_RECEIVED)
_TAGGED = RecognitionTag.__table__  # type: ignore[attr-defined]
_INSERT_TAGS = insert(_TAGGED)


def _insert_all_at_once() -> Any:
    """PostgreSQL: the kudos, its recipients and its tags in one statement (data-modifying
    CTEs; the lists come as arrays), one round trip instead of three. SQLite has no such
    statement and runs the three INSERTs, which cost it no round trip."""
    given = _INSERT_RECOGNITION.cte("given")
    recipient_ids = func.unnest(
        bindparam("recipient_ids", type_=postgresql.ARRAY(Integer))
    ).table_valued("recipient_id").render_derived(name="named")
    tags = (
        func.unnest(bindparam("tags", type_=postgresql.ARRAY(String)))
        .table_valued("tag")
        .render_derived(name="listed")
    )
    received = insert(_RECEIVED).from_select(
        ["recognition_id", "recipient_id", "workspace_id", "created_at"],
        core_select(
            given.c.id,
            recipient_ids.c.recipient_id,
            bindparam("workspace_id", type_=_RECEIVED.c.workspace_id.type),
            bindparam("created_at", type_=_RECEIVED.c.created_at.type),
        ).select_from(given.join(recipient_ids, true())),
    )
    tagged = insert(_TAGGED).from_select(
        ["recognition_id", "tag"],
        core_select(given.c.id, tags.c.tag).select_from(given.join(tags, true())),
    )
    return core_select(given.c.id).add_cte(received.cte("received"), tagged.cte("tagged"))


_INSERT_ALL_AT_ONCE = _insert_all_at_once()


async def add(unit: Unit, new: NewRecognition) -> Recognition:
    """Stores a kudos with its recipients and tags; the returned record is not attached to
    the unit (read it back through the functions here to change it)."""
    recognition = Recognition(
        workspace_id=new.workspace_id,
        giver_id=new.giver_id,
        reason=new.reason,
        channel_id=new.channel_id,
        source=new.source,
        source_ref=new.source_ref,
        dedupe_key=new.dedupe_key,
        created_at=new.created_at,
        giver_day=new.giver_day,
    )
    values = {key: getattr(recognition, key) for key in _RECORDED}
    if dialect_of(unit) == "postgresql":
        values.update(recipient_ids=list(new.recipient_ids), tags=list(new.tags))
        statement = _INSERT_ALL_AT_ONCE
        recognition.id = (await unit.session.exec(statement, params=values)).scalar_one()
        return recognition
    recognition.id = (await unit.session.exec(_INSERT_RECOGNITION, params=values)).scalar_one()
    recipients = [
        {
            "recognition_id": recognition.id,
            "recipient_id": recipient_id,
            "workspace_id": new.workspace_id,
            "created_at": new.created_at,
        }
        for recipient_id in new.recipient_ids
    ]
    if recipients:
        await unit.session.exec(_INSERT_RECIPIENTS, params=recipients)
    tags = [{"recognition_id": recognition.id, "tag": tag} for tag in new.tags]
    if tags:
        await unit.session.exec(_INSERT_TAGS, params=tags)
    return recognition


async def revoke(unit: Unit, recognition: Recognition, now: datetime) -> None:
    """Withdrawn: the row stays (its keys still stop repeats) but counts no more."""
    recognition.revoked_at = now
    unit.session.add(recognition)


async def latest_by_giver(unit: Unit, giver_id: int) -> Recognition | None:
    statement = (
        select(Recognition)
        .where(Recognition.giver_id == giver_id, col(Recognition.revoked_at).is_(None))
        .order_by(col(Recognition.created_at).desc(), col(Recognition.id).desc())
        .limit(1)
    )
    return (await unit.session.exec(statement)).first()


async def find_by_source(
    unit: Unit, workspace_id: int, giver_id: int, source: str, source_ref: str
) -> Recognition | None:
    statement = select(Recognition).where(
        Recognition.workspace_id == workspace_id,
        Recognition.giver_id == giver_id,
        Recognition.source == source,
        Recognition.source_ref == source_ref,
        col(Recognition.revoked_at).is_(None),
    )
    return (await unit.session.exec(statement)).first()


async def recipients(unit: Unit, recognition_id: int) -> list[Person]:
    statement = (
        select(Person)
        .join(RecognitionRecipient, col(RecognitionRecipient.recipient_id) == Person.id)
        .where(RecognitionRecipient.recognition_id == recognition_id)
        .order_by(col(Person.id))
    )
    return list((await unit.session.exec(statement)).all())


async def tags(unit: Unit, recognition_id: int) -> list[str]:
    statement = select(RecognitionTag.tag).where(RecognitionTag.recognition_id == recognition_id)
    return sorted((await unit.session.exec(statement)).all())


async def received_count(unit: Unit, person_id: int, since: datetime | None) -> int:
    statement = (
        select(func.count())
        .select_from(RecognitionRecipient)
        .join(Recognition, col(Recognition.id) == RecognitionRecipient.recognition_id)
        .where(
            RecognitionRecipient.recipient_id == person_id, col(Recognition.revoked_at).is_(None)
        )
    )
    if since is not None:
        statement = statement.where(col(RecognitionRecipient.created_at) >= since)
    return (await unit.session.exec(statement)).one()


async def given_count(unit: Unit, person_id: int, since: datetime | None) -> int:
    statement = (
        select(func.count())
        .select_from(RecognitionRecipient)
        .join(Recognition, col(Recognition.id) == RecognitionRecipient.recognition_id)
        .where(Recognition.giver_id == person_id, col(Recognition.revoked_at).is_(None))
    )
    if since is not None:
        statement = statement.where(col(Recognition.created_at) >= since)
    return (await unit.session.exec(statement)).one()


async def top_tags_received(unit: Unit, person_id: int, limit: int = 5) -> list[tuple[str, int]]:
    count = func.count().label("n")
    statement = (
        select(RecognitionTag.tag, count)
        .join(Recognition, col(Recognition.id) == RecognitionTag.recognition_id)
        .join(
            RecognitionRecipient,
            col(RecognitionRecipient.recognition_id) == RecognitionTag.recognition_id,
        )
        .where(
            RecognitionRecipient.recipient_id == person_id, col(Recognition.revoked_at).is_(None)
        )
        .group_by(RecognitionTag.tag)
        .order_by(count.desc(), RecognitionTag.tag)
        .limit(limit)
    )
    return [(tag, n) for tag, n in (await unit.session.exec(statement)).all()]


async def leaderboard(
    unit: Unit, workspace_id: int, since: datetime, limit: int = 10
) -> list[tuple[Person, int]]:
    count = func.count().label("n")
    ranked = (
        select(RecognitionRecipient.recipient_id, count)
        .join(Recognition, col(Recognition.id) == RecognitionRecipient.recognition_id)
        .where(
            RecognitionRecipient.workspace_id == workspace_id,
            col(RecognitionRecipient.created_at) >= since,
            col(Recognition.revoked_at).is_(None),
        )
        .group_by(RecognitionRecipient.recipient_id)
        .subquery()
    )
    statement = (
        select(Person, ranked.c.n)
        .join(ranked, ranked.c.recipient_id == Person.id)
        .order_by(ranked.c.n.desc(), col(Person.display_name))
        .limit(limit)
    )
    return [(person, n) for person, n in (await unit.session.exec(statement)).all()]


async def latest_received(
    unit: Unit, person_id: int, limit: int = 3
) -> list[tuple[Person, Recognition]]:
    """The newest kudos `person_id` received and still holds, with who gave each."""
    statement = (
        select(Person, Recognition)
        .join(Recognition, col(Recognition.giver_id) == Person.id)
        .join(RecognitionRecipient, col(RecognitionRecipient.recognition_id) == Recognition.id)
        .where(
            RecognitionRecipient.recipient_id == person_id, col(Recognition.revoked_at).is_(None)
        )
        .order_by(col(Recognition.created_at).desc(), col(Recognition.id).desc())
        .limit(limit)
    )
    found = (await unit.session.exec(statement)).all()
    return [(giver, recognition) for giver, recognition in found]
