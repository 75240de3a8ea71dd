"""Storage raises its own errors: a unique-key conflict is `Duplicate`, on either database."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.errors import Duplicate, is_database_error
from storage.repositories import teams, workspaces


async def _new_team(db: Database, clock: ManualClock, workspace_id: int, name: str) -> None:
    async with db.write() as unit:
        await teams.create(
            unit,
            workspace_id=workspace_id,
            name=name,
            lead_id=None,
            channel_id=None,
            now=clock.now(),
        )


async def test_a_second_row_with_the_same_unique_key_is_a_duplicate(
    db: Database, clock: ManualClock
) -> None:
    async with db.write() as unit:
        workspace = await workspaces.ensure(unit, "console", "local", clock.now())
    assert workspace.id is not None
    await _new_team(db, clock, workspace.id, "Platform")

    with pytest.raises(Duplicate) as raised:
        await _new_team(db, clock, workspace.id, "Platform")

    assert is_database_error(raised.value)
    async with db.read() as unit:
        assert [team.name for team in await teams.in_workspace(unit, workspace.id)] == ["Platform"]


async def test_other_integrity_errors_are_not_duplicates(db: Database, clock: ManualClock) -> None:
    with pytest.raises(IntegrityError) as raised:  # no workspace 999: a foreign-key violation
        await _new_team(db, clock, 999, "Nowhere")

    assert not isinstance(raised.value, Duplicate)
    assert is_database_error(raised.value)


def test_lost_connections_count_as_database_errors_and_bugs_do_not() -> None:
    assert is_database_error(ConnectionResetError())
    assert is_database_error(TimeoutError())
    assert not is_database_error(ValueError("a bug, not the database"))
