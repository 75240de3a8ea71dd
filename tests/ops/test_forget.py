"""`kudos-pulse forget USER`: the person's name, ids and words go; every count stays."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.messages import Message, ToPerson
from bot.runtime import outbox
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import (
    AppSetting,
    AuditEntry,
    OutboxItem,
    Person,
    Recognition,
    RecognitionRecipient,
    TeamsConversationRef,
    Workspace,
)
from storage.repositories import recognitions
from storage.repositories.settings import person_prefix
from tests.conftest import ConsoleHarness
from tests.harness.helpers import count
from tests.ops.conftest import Cli

ALICE_WROTE = "thanks for untangling the refund flow"
FORGOTTEN = col(Person.forgotten_at).is_not(None)


async def _history(console: ConsoleHarness, clock: ManualClock, db: Database) -> None:
    await console.say(f"/kudos @bob {ALICE_WROTE} #easy", as_user="alice")
    clock.advance(timedelta(hours=1))
    await console.say("/kudos @alice for reviewing my migration plan #value", as_user="bob")
    await console.say("/kudos @alice @dave for the calm incident call", as_user="carol")
    # Her own choice, kept per person; bob's too (his must survive her erasure).
    await console.say("/kudos notify off", as_user="alice")
    await console.say("/kudos notify off", as_user="bob")
    async with db.write() as unit:
        session = unit.session
        workspace = (await session.exec(select(Workspace))).one()
        assert workspace.id is not None
        # A pulse question still waiting for alice, and her Teams-style conversation reference.
        await outbox.enqueue(
            unit,
            workspace_id=workspace.id,
            platform="console",
            key="pulse:1:ask:alice",
            message=Message(
                audience=ToPerson(user_id="alice"), text="Did the new deploy make things EASY?"
            ),
            now=clock.now(),
            not_before=clock.now() + timedelta(days=1),
        )
        session.add(
            TeamsConversationRef(
                workspace_id=workspace.id,
                scope="user",
                key="alice",
                reference={"user": {"id": "alice", "name": "Alice A."}},
                updated_at=clock.now(),
            )
        )


async def _snapshot(db: Database) -> dict[str, int]:
    return {
        "recognitions": await count(db, Recognition),
        "awards": await count(db, RecognitionRecipient),
        "people": await count(db, Person),
        "outbox": await count(db, OutboxItem),
    }


async def _received(db: Database, external_id: str) -> int:
    async with db.read() as unit:
        session = unit.session
        person = (await session.exec(select(Person).where(Person.external_id == external_id))).one()
        assert person.id is not None
        return await recognitions.received_count(unit, person.id, None)


async def test_forget_erases_personal_data_and_keeps_counts(
    console: ConsoleHarness,
    clock: ManualClock,
    db: Database,
    cli: Cli,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _history(console, clock, db)
    before = await _snapshot(db)
    bob_received = await _received(db, "bob")
    alice_received = await _received(db, "alice")

    assert await cli("forget", "alice") == 0
    printed = capsys.readouterr().out
    assert "Forgot alice (id alice) in console workspace local" in printed
    assert "1 conversation references" in printed and "1 settings" in printed
    # The question waiting for her is the only message still queued.
    # The celebrations and notices of the kudos went out already: they are not "queued".
    assert "1 still queued" in printed and "4 already sent" in printed

    # Rows stay, so totals and leaderboards add up as before.
    assert await _snapshot(db) == before
    assert await _received(db, "bob") == bob_received
    async with db.read() as unit:
        session = unit.session
        alice = (await session.exec(select(Person).where(FORGOTTEN))).one()
        assert alice.display_name == ""
        assert alice.forgotten_at is not None
        assert alice.external_id == f"forgotten-{alice.id}"
        assert await _received(db, alice.external_id) == alice_received
        reasons = dict((await session.exec(select(Recognition.giver_id, Recognition.reason))).all())
        assert reasons[alice.id] == ""
        assert any("migration plan" in reason for reason in reasons.values())  # bob's words stay
        assert await count(db, TeamsConversationRef) == 0
        rows = (await session.exec(select(OutboxItem))).all()
        audit_entries = (await session.exec(select(AuditEntry))).all()
        setting_keys = list((await session.exec(select(AppSetting.key))).all())
        bob = (await session.exec(select(Person).where(Person.external_id == "bob"))).one()
    # No setting of hers is left (whatever its feature); bob's own choice stays.
    assert alice.id is not None and bob.id is not None
    assert [key for key in setting_keys if key.startswith(person_prefix(alice.id))] == []
    assert [key for key in setting_keys if "notify-off" in key] == [
        f"{person_prefix(bob.id)}kudos.notify-off"
    ]
    assert [key for key in setting_keys if key.startswith(person_prefix(bob.id))] == [
        f"{person_prefix(bob.id)}kudos.notify-off"
    ]
    # Nothing queued or kept in the outbox names her or quotes her.
    for row in rows:
        document = json.dumps(row.message)
        assert "alice" not in document and "alice" not in row.dedupe_key, row.dedupe_key
        assert ALICE_WROTE not in document
    question = next(row for row in rows if row.dedupe_key.startswith("pulse:1:ask:"))
    assert question.status == "cancelled"
    assert [(e.actor, e.action) for e in audit_entries] == [("cli", "person.forget")]
    assert "alice" not in audit_entries[0].detail

    # A second run finds no one, says so, fails, and changes nothing.
    assert await cli("forget", "alice") == 1
    assert "no one held under 'alice'" in capsys.readouterr().out
    assert await _snapshot(db) == before
    assert await count(db, AuditEntry) == 1


async def test_forget_only_in_the_named_workspace(
    console: ConsoleHarness,
    clock: ManualClock,
    db: Database,
    cli: Cli,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await _history(console, clock, db)
    assert await cli("forget", "alice", "--workspace", "T-ELSEWHERE") == 1
    assert "no one held under 'alice' in workspace T-ELSEWHERE" in capsys.readouterr().out
    async with db.read() as unit:
        session = unit.session
        assert (await session.exec(select(Person).where(FORGOTTEN))).all() == []
    assert await count(db, AuditEntry) == 0
