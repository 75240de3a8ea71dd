"""`kudos-pulse forget USER`: erase one person's personal data, keep every count right.

Rows stay (kudos given and received, team memberships, pulse participation), so totals,
leaderboards and digests add up as before; what identifies or was written by the person
goes: their name and platform id (the person row is pseudonymised), the reasons they wrote
(and the messages of theirs a reaction turned into kudos), their stored conversation
references, their own settings, and messages addressed to them that still wait in the
outbox. Features with
personal data of their own add an eraser with `register_eraser`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.models import OutboxItem, Person, Workspace
from storage.repositories import audit, erasure
from storage.repositories import outbox as outbox_rows
from storage.repositories import settings as settings_rows
from storage.unit import Unit

ERASED = ""
# (unit of work, person as it was, now) → rows changed; runs in the same transaction.
Eraser = Callable[[Unit, Person, datetime], Awaitable[int]]
_ERASERS: list[tuple[str, Eraser]] = []


def register_eraser(name: str, eraser: Eraser) -> None:
    """A feature's own erasure step (e.g. pulses), run for every person forgotten."""
    _ERASERS.append((name, eraser))


@dataclass
class Forgotten:
    workspace: str
    platform: str
    user_id: str = ""
    reasons: int = 0
    references: int = 0
    # Outbox rows naming them, by what had happened to them: still waiting to go out
    # (cancelled or renamed before sending), already delivered (only the bot's stored copy
    # changes), never to be sent (failed or cancelled before).
    queued: int = 0
    sent: int = 0
    unsent: int = 0
    other: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Candidate:
    platform: str
    workspace: str
    user_id: str
    display_name: str


class Ambiguous(Exception):
    """`who` names more than one person: nothing was changed."""

    def __init__(self, candidates: list[Candidate]) -> None:
        super().__init__(f"{len(candidates)} people match")
        self.candidates = candidates


_SLACK_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


def _ways_of_naming(who: str) -> tuple[list[str], str]:
    """The platform ids and the display name `who` may stand for: a platform id (U…, 29:…,
    a console handle), @handle, a pasted Slack mention <@U…>, or a display or real name."""
    who = who.strip()
    mention = _SLACK_MENTION.match(who)
    if mention:
        return [mention.group(1)], ""
    handle = who.removeprefix("@").strip()
    return sorted({who, handle} - {""}), handle


def looks_like_email(who: str) -> bool:
    local, at, domain = who.strip().partition("@")
    return bool(local and at and "." in domain)


async def forget(
    db: Database,
    who: str,
    *,
    now: datetime,
    workspace: str | None = None,
    email_tag: str | None = None,
) -> list[Forgotten]:
    """Forget the person `who` names in every workspace (or only `workspace`); [] if no one
    is held under that name. Raises Ambiguous, changing nothing, when it names several people
    (one platform id seen in several workspaces is one person, forgotten in each, and so is
    one email address). `email_tag`: the keyed digest of `who` when it is an address."""
    ids, name = _ways_of_naming(who)
    done: list[Forgotten] = []
    async with db.write() as unit:
        found = await erasure.people_named(unit, ids, name, workspace, email_tag)
        if len(found) > 1 and not all(by_id for _, _, by_id in found):
            raise Ambiguous(
                [
                    Candidate(
                        place.platform, place.external_id, person.external_id, person.display_name
                    )
                    for person, place, _ in found
                ]
            )
        for person, place, _ in found:
            done.append(await _forget_one(unit, person, place, now))
    return done


async def _forget_one(unit: Unit, person: Person, place: Workspace, now: datetime) -> Forgotten:
    assert person.id is not None and place.id is not None
    result = Forgotten(
        workspace=place.external_id, platform=place.platform, user_id=person.external_id
    )
    pseudonym = f"forgotten-{person.id}"
    for name, eraser in _ERASERS:
        result.other[name] = await eraser(unit, person, now)
    result.reasons = await _erase_reasons(unit, person.id)
    # Their own choices (e.g. `/kudos notify off`): every per-person setting, whichever feature.
    result.other["settings"] = await settings_rows.remove_person(unit, person.id)
    result.references = await erasure.delete_user_references(unit, place.id, person.external_id)
    await _erase_messages(unit, place.id, person, pseudonym, result)
    await erasure.pseudonymise(unit, person.id, pseudonym, now)
    await audit.record(
        unit,
        workspace_id=place.id,
        actor="cli",
        action="person.forget",
        # Never the id or the name: the audit log must not bring them back.
        detail=(
            f"person #{person.id}: {result.reasons} reasons, {result.references} conversation "
            f"references, {result.queued + result.sent + result.unsent} messages erased"
        ),
        now=now,
    )
    return result


async def _erase_reasons(unit: Unit, person_id: int) -> int:
    """Blank what they wrote: reasons they gave, and their messages quoted by reaction kudos,
    in the recognitions and in the announcements of them (kept in the outbox)."""
    ids = await erasure.recognitions_worded_by(unit, person_id)
    await erasure.blank_reasons(unit, ids, ERASED)
    announcements = await erasure.queued_with_key_prefix(unit, [f"kudos:{rid}:" for rid in ids])
    for item in announcements:
        await _blank(unit, item, item.message.get("audience", {}))
    return len(ids)


async def _blank(unit: Unit, item: OutboxItem, audience: dict[str, object]) -> None:
    """Keep the row (its key still stops a repeat), drop the words; unsent ones stay unsent."""
    assert item.id is not None
    blank = {"audience": audience, "text": "(erased)", "blocks": [], "replaces": None}
    status = outbox_rows.CANCELLED if item.status == outbox_rows.PENDING else None
    await erasure.rewrite_queued(unit, item.id, message=blank, status=status, clear_error=True)


async def _erase_messages(
    unit: Unit, workspace_id: int, person: Person, pseudonym: str, result: Forgotten
) -> None:
    """Queued messages naming the person: DMs to them are blanked (and cancelled if unsent);
    elsewhere their id and name give way to the pseudonym. Keys ending in their id are
    rewritten the way they would now be built for the pseudonym."""
    user_id = person.external_id
    for item in await erasure.queued_mentioning(unit, workspace_id, user_id):
        assert item.id is not None
        status = item.status  # before rewriting: the session may refresh the row
        audience = item.message.get("audience", {})
        if audience.get("kind") == "direct" and audience.get("user_id") == user_id:
            await _blank(unit, item, {"kind": "direct", "user_id": pseudonym})
        else:
            renamed = _rename(item.message, [user_id, person.display_name], pseudonym)
            await erasure.rewrite_queued(unit, item.id, message=renamed)
        if item.dedupe_key.endswith(f":{user_id}"):
            new_key = item.dedupe_key.removesuffix(user_id) + pseudonym
            await erasure.rewrite_queued(unit, item.id, key=new_key)
        if status in (outbox_rows.PENDING, outbox_rows.SENDING):
            result.queued += 1
        elif status == outbox_rows.SENT:
            result.sent += 1
        else:
            result.unsent += 1


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
