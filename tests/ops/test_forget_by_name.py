"""`kudos-pulse forget WHO` finds a person the way people name them (@handle, display name,
a pasted mention, platform id), refuses to guess between several, and fails when it finds
no one — driven through the real CLI with no terminal on standard input."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from storage.db import Database
from storage.models import AuditEntry, OutboxItem, Person, Workspace
from tests.harness.helpers import count
from tests.ops.conftest import Cli

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FORGOTTEN = col(Person.forgotten_at).is_not(None)


@pytest.fixture(autouse=True)
def _no_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An operator's script or cron job: nothing to read, so nothing may prompt."""
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr("sys.stdin", closed)
    yield


async def _people(db: Database) -> None:
    """Carol in a Slack workspace (two messages naming her: one delivered, one waiting), two
    different people called Sam in two workspaces, and someone already forgotten."""
    async with db.write() as unit:
        session = unit.session
        slack = Workspace(platform="slack", external_id="T0ACME", name="Acme", created_at=NOW)
        teams = Workspace(
            platform="teams", external_id="tenant-1", name="Acme Teams", created_at=NOW
        )
        session.add_all([slack, teams])
        await session.flush()
        assert slack.id is not None and teams.id is not None
        session.add_all(
            [
                Person(
                    workspace_id=slack.id,
                    external_id="U0CAROL",
                    display_name="Carol Danvers",
                    refreshed_at=NOW,
                ),
                Person(
                    workspace_id=slack.id,
                    external_id="U0SAM1",
                    display_name="sam",
                    refreshed_at=NOW,
                ),
                Person(
                    workspace_id=teams.id,
                    external_id="29:sam-two",
                    display_name="Sam",
                    refreshed_at=NOW,
                ),
                Person(
                    workspace_id=slack.id,
                    external_id="forgotten-9",
                    display_name="",
                    refreshed_at=NOW,
                    forgotten_at=NOW,
                ),
            ]
        )
        for key, status, text in [
            ("digest:1:U0CAROL", "sent", "Your week, <@U0CAROL>: 3 kudos"),
            ("pulse:4:ask:U0CAROL", "pending", "Did the release make things EASY?"),
        ]:
            session.add(
                OutboxItem(
                    workspace_id=slack.id,
                    platform="slack",
                    dedupe_key=key,
                    status=status,
                    message={"audience": {"kind": "direct", "user_id": "U0CAROL"}, "text": text},
                    not_before=NOW,
                    created_at=NOW,
                )
            )


async def _forgotten(db: Database) -> list[str]:
    async with db.read() as unit:
        rows = (await unit.session.exec(select(Person.display_name).where(FORGOTTEN))).all()
    return list(rows)


@pytest.mark.parametrize("who", ["@Carol Danvers", "carol danvers", "<@U0CAROL>", "U0CAROL"])
async def test_forget_finds_a_person_by_handle_name_mention_or_id(
    db: Database, cli: Cli, capsys: pytest.CaptureFixture[str], who: str
) -> None:
    await _people(db)
    assert await cli("forget", who) == 0
    printed = capsys.readouterr().out
    assert f"Forgot {who} (id U0CAROL) in slack workspace T0ACME" in printed
    # The delivered digest is not "queued": only the waiting question is.
    assert "1 still queued" in printed and "1 already sent" in printed
    async with db.read() as unit:
        carol = (
            await unit.session.exec(
                select(Person).where(Person.external_id.startswith("forgotten-"))
            )  # type: ignore[attr-defined]
        ).all()
        rows = (await unit.session.exec(select(OutboxItem))).all()
    assert any(p.display_name == "" and p.forgotten_at is not None for p in carol)
    assert all("U0CAROL" not in json.dumps(row.message) for row in rows)
    question = next(row for row in rows if row.dedupe_key.startswith("pulse:4:ask:"))
    assert question.status == "cancelled"
    assert await count(db, AuditEntry) == 1


async def test_forget_refuses_a_name_two_people_share(
    db: Database, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    await _people(db)
    assert await cli("forget", "@sam") == 1
    printed = capsys.readouterr().out
    assert "'@sam' names 2 people; nothing was changed" in printed
    assert "slack workspace T0ACME: id U0SAM1 ('sam')" in printed
    assert "teams workspace tenant-1: id 29:sam-two ('Sam')" in printed
    assert await _forgotten(db) == [""]  # only the one forgotten before
    assert await count(db, AuditEntry) == 0

    # Narrowed to one workspace, the same name is one person.
    assert await cli("forget", "Sam", "--workspace", "tenant-1") == 0
    assert "Forgot Sam (id 29:sam-two) in teams workspace tenant-1" in capsys.readouterr().out
    async with db.read() as unit:
        left = (await unit.session.exec(select(Person).where(Person.external_id == "U0SAM1"))).one()
    assert left.display_name == "sam" and left.forgotten_at is None


@pytest.mark.parametrize("who", ["@nobody", "forgotten-9", "carol@acme.example"])
async def test_forget_fails_when_it_finds_no_one(
    db: Database, cli: Cli, capsys: pytest.CaptureFixture[str], who: str
) -> None:
    await _people(db)
    before = await count(db, Person, FORGOTTEN)
    assert await cli("forget", who) == 1
    printed = capsys.readouterr().out
    assert f"no one held under {who!r}" in printed and "Nothing was changed" in printed
    if "." in who:
        assert "Addresses are known only where the platform gave one" in printed
    assert await count(db, Person, FORGOTTEN) == before
    assert await count(db, AuditEntry) == 0
