"""Anonymity is a promise: try every way we know to learn who answered what.

Each respondent answers with a distinctive rating and comment; then, as an admin, a team lead
and a fellow respondent, we look through every command, the digest summary, the export and
every stored row for anything that ties a person to an answer (or even to a moment)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.app import Application
from bot.pulses.export import export_rows
from bot.runtime.clock import ManualClock
from storage.models import Person
from tests.conftest import ConsoleHarness

RESPONDENTS = {
    # person: (easy, value, comment) — every answer is unique, so any link would show.
    "bob": (1, 5, "comment-from-bob"),
    "carol": (2, 4, "comment-from-carol"),
    "dan": (3, 3, "comment-from-dan"),
    "erin": (4, 2, "comment-from-erin"),
    "frank": (5, 1, "comment-from-frank"),
}


async def _all_rows(app: Application) -> dict[str, list[dict[str, Any]]]:
    dump: dict[str, list[dict[str, Any]]] = {}
    async with app.db.engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            result = await connection.execute(text(f'SELECT * FROM "{table.name}"'))
            dump[table.name] = [dict(row._mapping) for row in result]
    return dump


async def test_nobody_can_tell_who_answered_what(
    console: ConsoleHarness, app: Application, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    console.platform.seen("eng", *RESPONDENTS, "gina")
    await console.say('/pulse now "the deploy pipeline" to #eng open 2h', as_user="admin")
    for person, (easy, value, comment) in RESPONDENTS.items():
        await console.say(f'/answer 1 easy={easy} value={value} "{comment}"', as_user=person)

    # While open, results say nothing but the count — watching them change would otherwise
    # reveal the latest answer.
    watching = await console.say("/pulse results 1", as_user="admin")
    assert "5 of 6 answered" in watching
    for _, _, comment in RESPONDENTS.values():
        assert comment not in watching
    assert "EASY:" not in watching

    clock.advance(timedelta(hours=2))
    await app.scheduler.tick()
    await app.outbox.drain()
    shown = await console.say("/pulse results 1", as_user="admin")
    # Comments are listed in sorted order, not in the order people answered.
    comments = [line.strip()[2:] for line in shown.splitlines() if line.strip().startswith("> ")]
    assert comments == sorted(comment for _, _, comment in RESPONDENTS.values())
    everything_said = "\n".join(console.lines)
    for person in RESPONDENTS:
        for line in everything_said.splitlines():
            if f"comment-from-{person}" in line:
                # A comment is only ever shown as an anonymous quote, never next to a name.
                assert line.strip().startswith("> ")
                assert not any(f"@{other}" in line for other in RESPONDENTS)

    # A respondent asking for results is refused; so is a stranger answering to probe.
    assert "Only admins" in await console.say("/pulse results 1", as_user="bob")
    assert "You weren't asked" in await console.say("/answer 1 easy=1 value=1", as_user="zed")

    # The digest's view and the export carry only aggregates.
    async with app.db.read() as unit:
        session = unit.session
        person_ids = {
            p.id: p.external_id
            for p in (
                await session.exec(
                    Person.__table__.select()  # type: ignore[attr-defined]
                )
            ).all()
        }
    exported = [
        row async for row in export_rows(app.db, since=None, workspace_id=None, config=app.config)
    ]
    assert len(exported) == 1
    flat = repr(exported)
    assert not any(person in flat for person in RESPONDENTS)
    assert "comment-from" not in flat
    assert set(exported[0]) >= {"easy_mean", "value_mean", "responded", "invited"}

    # Stored rows: answers sit under an opaque key, beside no user id, time or sequence.
    rows = await _all_rows(app)
    responses = rows["pulse_responses"]
    assert len(responses) == 5
    assert {tuple(sorted(r)) for r in responses} == {
        ("comment", "easy", "respondent", "round_id", "value")
    }
    for response in responses:
        assert len(response["respondent"]) == 64
        for person_id, external_id in person_ids.items():
            assert external_id not in response["respondent"]
            assert response["respondent"] != str(person_id)
    # A delivery knows only whether someone answered: no rating, no time.
    assert {tuple(sorted(r)) for r in rows["pulse_deliveries"]} == {
        ("answered", "person_id", "round_id")
    }
    # No other table recorded the act of answering (no event ids, no audit, no outbox row).
    assert rows["processed_events"] == []
    assert all("answer" not in entry["action"] for entry in rows["audit_log"])
    outbox_text = repr(rows["outbox"])
    for _, _, comment in RESPONDENTS.values():
        # Comments leave the database only inside the anonymous results message.
        for row in rows["outbox"]:
            if comment in repr(row["message"]):
                assert row["dedupe_key"].startswith("pulse:1:results:")
    assert "comment-from" in outbox_text  # (the results message did carry them)
    # The hash cannot be recomputed from the stored rows without the secret … and the
    # answering person's ratings never appear in the logs.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for person, (_, _, comment) in RESPONDENTS.items():
        assert comment not in logged
        assert f"easy={RESPONDENTS[person][0]}" not in logged
