"""`kudos-pulse copy-data --to URL`: every table from SQLite into a fresh database, counts equal,
sequences moved on, and a non-empty target refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlmodel import SQLModel, select

from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage import migrate
from storage.copy import row_counts
from storage.db import Database
from storage.models import (
    AppSetting,
    AuditEntry,
    ChartImage,
    Person,
    SlackInstallation,
    SlackOAuthState,
    Team,
    TeamMember,
    TeamsConversationRef,
    Workspace,
)
from tests.conftest import ON_POSTGRES, PG_URL, ConsoleHarness
from tests.ops.conftest import Cli

# Tables the foundation defines. The test fills every table, the features' included (pulses,
# digests), and the copy is generic over the metadata, so a new table is covered too.
FOUNDATION_TABLES = {
    "workspaces",
    "people",
    "teams",
    "team_members",
    "recognitions",
    "recognition_recipients",
    "recognition_tags",
    "outbox",
    "processed_events",
    "slack_installations",
    "slack_oauth_states",
    "teams_conversation_refs",
    "app_settings",
    "audit_log",
}


async def _filled_sqlite(path: Path, config: Config, clock: ManualClock) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    await migrate.upgrade(db)
    console = ConsoleHarness(Application(config, clock=clock, db=db))
    await console.say("/kudos @bob thanks for the quick refund fix #easy")
    await console.say("/kudos @carol @dave for pairing on the outage #value #easy", as_user="bob")
    assert await console.app.core.first_sighting("Ev-slack-1")
    # An acknowledged request no worker has handled yet (no handler for its kind here).
    console.app.inbox.accept("slack.command", "slack:command:T1:trigger-1", {"text": "thanks"})
    assert await console.app.inbox.write_buffered() == 1
    now = clock.now()
    async with db.write() as unit:
        session = unit.session
        workspace = (await session.exec(select(Workspace))).one()
        bob = (await session.exec(select(Person).where(Person.external_id == "bob"))).one()
        team = Team(
            workspace_id=workspace.id,
            name="payments",
            lead_id=bob.id,
            created_at=now,
        )
        session.add(team)
        await session.flush()
        for person in (await session.exec(select(Person))).all():
            session.add(TeamMember(team_id=team.id, person_id=person.id))
        session.add(
            SlackInstallation(
                client_id="1.2", team_id="T1", data={"bot_token": "xoxb-x"}, installed_at=now
            )
        )
        session.add(SlackOAuthState(state="st-1", expires_at=now))
        session.add(
            TeamsConversationRef(
                workspace_id=workspace.id,
                scope="user",
                key="29:a",
                reference={"a": 1},
                updated_at=now,
            )
        )
        session.add(AppSetting(key="pulse_secret", value="generated"))
        # A drawn chart a Teams card links to (bytes survive the copy like any column).
        session.add(
            ChartImage(
                id="chart-1", png=b"\x89PNG\r\n\x1a\n", created_at=now, expires_at=now
            )
        )
        session.add(
            AuditEntry(
                workspace_id=workspace.id,
                actor="admin",
                action="team.create",
                detail="payments",
                created_at=now,
            )
        )
    # A pulse round answered by enough people to show its comments, closed; a second one still
    # open with a sealed answer; and a weekly digest sent: the feature tables too.
    people = ["alice", "bob", "carol", "dave", "erin", "frank", "gina", "hal"]
    console.platform.seen("general", *people)
    await console.say('/pulse now "the refund flow" to #general open 1h', as_user="admin")
    for person in people:
        await console.say(f'/answer 1 easy=4 value=5 "much faster for {person}"', as_user=person)
    await console.say("/digest schedule team:payments every mon at 10:00 tz UTC", as_user="admin")
    clock.advance(timedelta(days=7, minutes=1))
    await console.app.scheduler.tick()
    await console.app.outbox.drain()
    await console.say('/pulse now "the new rota" to #general open 48h', as_user="admin")
    await console.say("/answer 2 easy=3 value=4", as_user="carol")
    counts = await row_counts(db)
    await db.dispose()
    every_table = {table.name for table in SQLModel.metadata.sorted_tables}
    assert FOUNDATION_TABLES < every_table
    assert {name for name in every_table if not counts[name]} == set(), counts
    return url


@pytest.fixture
async def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'target.db'}"
        return
    if not ON_POSTGRES:
        pytest.skip("needs TEST_DATABASE_URL=postgresql+asyncpg://…")
    name = f"ops_copy_{uuid.uuid4().hex[:8]}"
    server = PG_URL.replace("postgresql+asyncpg://", "postgresql://").rsplit("/", 1)[0]
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.mark.parametrize("target_url", ["sqlite", "postgresql"], indirect=True)
async def test_copy_everything_then_keep_working_on_the_target(
    cli: Cli,
    config: Config,
    clock: ManualClock,
    tmp_path: Path,
    target_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source_url = await _filled_sqlite(tmp_path / "source.db", config, clock)

    assert (
        await cli("copy-data", "--to", target_url, "--batch", "2", env={"DATABASE_URL": source_url})
        == 0
    )
    assert "every count matches" in capsys.readouterr().out

    source, target = Database(source_url), Database(target_url)
    try:
        assert await row_counts(target) == await row_counts(source)
        assert await migrate.is_current(target)
        # New rows on the target get fresh ids (sequences moved past the copied ones).
        console = ConsoleHarness(Application(config, clock=clock, db=target))
        shown = await console.say("/kudos @erin for the tidy release notes", as_user="carol")
        assert "@erin" in shown
        async with target.read() as unit:
            session = unit.session
            names = {p.external_id for p in (await session.exec(select(Person))).all()}
        assert {"alice", "bob", "carol", "dave", "erin"} <= names
    finally:
        await source.dispose()
        await target.dispose()

    # A second copy into the now non-empty target is refused and changes nothing.
    assert await cli("copy-data", "--to", target_url, env={"DATABASE_URL": source_url}) == 1
    assert "refused: the target database is not empty" in capsys.readouterr().out
