"""A pulse answer pressed while the database is unreachable is not lost silently: the person
is told it was NOT saved and can press again — and pressing again once it is back works.
(No durable buffer: it would be exactly the who-answered-when record docs/PRIVACY.md rules out.)"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from storage.db import Database
from tests.conftest import ON_POSTGRES
from tests.e2e.test_slack_pulses import _answer_click, _answers_to, _questions
from tests.e2e.test_teams_pulses import answer
from tests.harness.helpers import sealed_answers
from tests.harness.postgres import as_admin
from tests.harness.slack import SlackHarness
from tests.harness.teams import (
    TeamsChat,
    at,
)

NOT_SAVED = "Your answer was NOT saved"


@asynccontextmanager
async def database_down(db: Database) -> AsyncIterator[None]:
    """A real outage: on PostgreSQL the database refuses connections and the pool's are cut;
    on SQLite the file's folder is gone. Everything comes back on exit."""
    await db.dispose()
    if ON_POSTGRES:
        name = db.url.rsplit("/", 1)[1]
        await as_admin(
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
        )
        try:
            yield
        finally:
            await as_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        return
    folder = Path(db.url.split("///", 1)[1]).parent
    away = folder.with_name(folder.name + "-away")
    os.rename(folder, away)
    try:
        yield
    finally:
        os.rename(away, folder)


async def test_slack_press_while_the_database_is_down(slack: SlackHarness) -> None:
    slack.fake.channels["CFIN"] = ["UBOB", "UCAROL"]
    await slack.command('now "the rota" to <#CFIN|finance>', user="UADMIN", command="/pulse")
    await slack.settle()
    question = _questions(slack)["UBOB"]
    async with database_down(slack.app.db):
        await slack.interaction(_answer_click(slack, question, "UBOB", 4, 4, "down"))
        await slack.adapter.work.drain()  # the press's own work only: the inbox waits it out
    [told] = _answers_to(slack, "UBOB")
    assert NOT_SAVED in told and "answer again" in told
    await slack.interaction(_answer_click(slack, question, "UBOB", 4, 4, "back"))
    await slack.settle()
    assert "saved anonymously" in _answers_to(slack, "UBOB")[-1]
    assert await sealed_answers(slack.app, 1) == 1


async def test_teams_press_while_the_database_is_down(teams: TeamsChat) -> None:
    await teams.install_personal("alice")
    teams.app.config.admins.append("29:alice")
    await teams.say("alice", f'pulse now "the rota" to {at("bob")}', mentions=("bob",))
    async with database_down(teams.app.db):
        [told] = await answer(teams, "bob", 3, 3, deliver=False)
    assert NOT_SAVED in told.shown
    [thanks] = await answer(teams, "bob", 3, 3)
    assert "saved anonymously" in thanks.shown
    assert await sealed_answers(teams.app, 1) == 1
