"""`kudos-pulse forget ADDRESS` finds a person by the email their platform gave, although the
database holds no address: people rows keep only a keyed digest of it (docs/PRIVACY.md)."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.app import Application
from storage.db import Database
from storage.models import Person
from tests.conftest import TEST_PULSE_KEY
from tests.harness.slack import SlackHarness
from tests.harness.teams import TeamsChat, uid
from tests.ops.conftest import Cli

pytestmark = pytest.mark.asyncio
SECRET = {"KUDOS_PULSE_SECRET": TEST_PULSE_KEY}


@pytest.fixture(autouse=True)
def _no_terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr("sys.stdin", closed)
    yield


async def _person(db: Database, external_id: str) -> Person:
    async with db.read() as unit:
        rows = (await unit.session.exec(select(Person))).all()
    [person] = [row for row in rows if row.external_id == external_id]
    # Whatever the row keeps, the address itself is in none of its columns.
    for row in rows:
        assert "acme.example" not in repr(row.model_dump()).lower()
        assert "contoso.example" not in repr(row.model_dump()).lower()
    return person


async def test_slack_person_is_forgotten_by_the_address_slack_gave(
    slack: SlackHarness, db: Database, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.fake.users["UBOB"]["profile"]["email"] = "Bob.Builder@Acme.example"
    response = await slack.command("<@UBOB|bob> for the release notes #value")
    assert response.status == 200
    await slack.settle()
    bob = await _person(db, "UBOB")
    assert bob.email_tag  # a digest, not the address

    # Without the key the address cannot be matched, so nothing happens.
    assert await cli("forget", "bob.builder@acme.example", env={"KUDOS_PULSE_SECRET": "x" * 40})
    assert "no one held under" in capsys.readouterr().out

    assert await cli("forget", "  bob.builder@ACME.example ", env=SECRET) == 0
    assert "Forgot" in capsys.readouterr().out
    async with db.read() as unit:
        gone = await unit.session.get(Person, bob.id)
    assert gone is not None and gone.forgotten_at is not None
    assert gone.external_id != "UBOB" and gone.email_tag is None

    # Asked again: no one is held under that address any more.
    assert await cli("forget", "bob.builder@acme.example", env=SECRET) == 1


async def test_teams_person_is_forgotten_by_their_roster_address(
    teams: TeamsChat, app: Application, db: Database, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    await teams.install_in_team()
    await teams.say(
        "alice",
        "kudos <at>Bob</at> for the release notes #value",
        where="channel",
        mentions=("bob",),
    )
    bob = await _person(db, uid("bob"))
    assert bob.email_tag

    assert await cli("forget", "bob@contoso.example", env=SECRET) == 0
    assert f"(id {uid('bob')})" in capsys.readouterr().out
    async with db.read() as unit:
        gone = await unit.session.get(Person, bob.id)
    assert gone is not None and gone.forgotten_at is not None and gone.email_tag is None
