"""`kudos-pulse export`: real kudos out as CSV and JSON lines, filtered, audited, streamed."""

from __future__ import annotations

import csv
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import Application
from bot.ops.export import RECOGNITION_FIELDS
from bot.pulses.export import FIELDS
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import AuditEntry
from tests.conftest import ConsoleHarness
from tests.ops.conftest import Cli


async def _three_kudos(console: ConsoleHarness, clock: ManualClock) -> None:
    assert "@bob" in await console.say("/kudos @bob thanks for the quick refund fix #easy")
    clock.advance(timedelta(days=3))
    await console.say("/kudos @carol @dave for pairing on the outage, great calm #value #easy")
    clock.advance(timedelta(days=3))
    await console.say("/kudos @erin for reviewing the migration plan", as_user="bob")
    await console.say("/kudos undo", as_user="bob")


async def test_csv_export_has_every_column(
    console: ConsoleHarness, clock: ManualClock, cli: Cli, tmp_path: Path, db: Database
) -> None:
    await _three_kudos(console, clock)
    out = tmp_path / "kudos.csv"

    assert await cli("export", "recognitions", "--format", "csv", "--out", str(out)) == 0

    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "id",
        "time",
        "workspace",
        "giver",
        "recipients",
        "tags",
        "reason",
        "channel",
        "source",
        "revoked",
    ]
    assert [(r["giver"], r["recipients"], r["tags"], r["revoked"]) for r in rows] == [
        ("alice", "bob", "easy", "false"),
        ("alice", "carol dave", "easy value", "false"),
        ("bob", "erin", "", "true"),
    ]
    assert rows[0]["reason"] == "thanks for the quick refund fix"
    assert rows[0]["time"] == "2026-11-16T10:00:00+00:00"
    assert {r["workspace"] for r in rows} == {"local"}
    assert {r["channel"] for r in rows} == {"general"}
    assert {r["source"] for r in rows} == {"command"}

    async with db.read() as unit:
        session = unit.session
        entries = (await session.exec(select(AuditEntry))).all()
    assert [(e.actor, e.action) for e in entries] == [("cli", "export.recognitions")]
    assert "format=csv rows=3" in entries[0].detail


async def test_jsonl_export_since_a_date(
    console: ConsoleHarness, clock: ManualClock, cli: Cli, tmp_path: Path
) -> None:
    await _three_kudos(console, clock)
    out = tmp_path / "kudos.jsonl"

    assert (
        await cli(
            "export",
            "recognitions",
            "--format",
            "jsonl",
            "--since",
            "2026-11-19",
            "--out",
            str(out),
        )
        == 0
    )

    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["giver"], r["recipients"], r["tags"], r["revoked"]) for r in rows] == [
        ("alice", ["carol", "dave"], ["easy", "value"], False),
        ("bob", ["erin"], [], True),
    ]
    assert rows[0]["time"] == "2026-11-19T10:00:00+00:00"


async def test_export_of_one_workspace_to_standard_output(
    console: ConsoleHarness, clock: ManualClock, cli: Cli, capsys: pytest.CaptureFixture[str]
) -> None:
    await _three_kudos(console, clock)

    assert await cli("export", "recognitions", "--workspace", "T-OTHER") == 0
    assert capsys.readouterr().out.splitlines() == [
        "id,time,workspace,giver,recipients,tags,reason,channel,source,revoked"
    ]
    assert await cli("export", "recognitions", "--workspace", "local", "--format", "jsonl") == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


async def test_pulses_export_holds_only_anonymous_aggregates_of_rounds_over_the_threshold(
    console: ConsoleHarness,
    app: Application,
    clock: ManualClock,
    cli: Cli,
    db: Database,
    tmp_path: Path,
) -> None:
    people = ("bob", "carol", "dan", "erin", "frank")
    console.platform.seen("finance", *people)
    await console.say('/pulse now "the expense tool" to #finance open 1h', as_user="admin")
    await app.outbox.drain()
    for rating, person in enumerate(people, start=1):
        await console.say(f'/answer 1 easy={rating} value=5 "note from {person}"', as_user=person)
    clock.advance(timedelta(hours=2))
    await app.scheduler.tick()  # closes the round
    out = tmp_path / "pulses.jsonl"

    assert await cli("export", "pulses", "--format", "jsonl", "--out", str(out)) == 0

    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1
    exported = rows[0]
    assert exported["subject"] == "the expense tool"
    assert exported["workspace"] == "local"
    text = out.read_text(encoding="utf-8")
    for person in people:  # nobody's id, and no comment tied to a person, leaves the database
        assert person not in text
    assert await cli("export", "pulses", "--workspace", "T-OTHER", "--out", str(out)) == 0
    assert out.read_text(encoding="utf-8").splitlines() == [",".join(FIELDS)]  # header only
    async with db.read() as unit:
        session = unit.session
        entries = (await session.exec(select(AuditEntry))).all()
    assert [e.action for e in entries if e.action.startswith("export")] == [
        "export.pulses",
        "export.pulses",
    ]


async def test_an_empty_csv_export_still_names_its_columns(
    db: object, cli: Cli, tmp_path: Path
) -> None:
    for what in ("pulses", "recognitions"):
        out = tmp_path / f"{what}.csv"
        assert await cli("export", what, "--format", "csv", "--out", str(out)) == 0
        with out.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert len(rows) == 1, rows  # the header, nothing else
        assert tuple(rows[0]) == (FIELDS if what == "pulses" else RECOGNITION_FIELDS)
