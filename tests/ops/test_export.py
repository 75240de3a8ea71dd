"""`kudos-pulse export`: real kudos out as CSV and JSON lines, filtered, audited, streamed."""

from __future__ import annotations

import csv
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.clock import ManualClock
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

    async with db.read() as session:
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


async def test_pulses_export_says_clearly_when_pulses_are_not_in_this_build(
    cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    try:
        import bot.pulses.export  # type: ignore[import-not-found]  # noqa: F401
    except ModuleNotFoundError:
        pass
    else:
        pytest.skip("pulses are part of this build; their export is tested with them")
    assert await cli("export", "pulses", "--out", str(tmp_path / "p.csv")) == 1
    assert "pulses are not available in this build" in capsys.readouterr().err


async def test_pulses_export_writes_what_the_pulses_feature_yields(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db: Database
) -> None:
    """The CLI's side of the contract with `bot.pulses.export.export_rows` (the pulses feature
    tests the aggregates themselves): arguments passed through, rows written, export audited."""
    import types

    calls: list[tuple[object, object]] = []

    async def export_rows(database: object, *, since: object, workspace_id: object):  # type: ignore[no-untyped-def]
        calls.append((since, workspace_id))
        yield {"round": 7, "team": "payments", "responses": 6, "easy_avg": 4.2, "value_avg": 3.8}
        yield {"round": 8, "team": "payments", "responses": 5, "easy_avg": 3.0, "value_avg": 4.0}

    fake = types.ModuleType("bot.pulses.export")
    fake.export_rows = export_rows  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.pulses", types.ModuleType("bot.pulses"))
    monkeypatch.setitem(sys.modules, "bot.pulses.export", fake)
    out = tmp_path / "pulses.csv"

    assert (
        await cli(
            "export", "pulses", "--since", "2026-11-01", "--workspace", "T1", "--out", str(out)
        )
        == 0
    )

    assert out.read_text(encoding="utf-8").splitlines() == [
        "round,team,responses,easy_avg,value_avg",
        "7,payments,6,4.2,3.8",
        "8,payments,5,3.0,4.0",
    ]
    assert [(str(since), workspace) for since, workspace in calls] == [
        ("2026-11-01 00:00:00+00:00", "T1")
    ]
    async with db.read() as session:
        entries = (await session.exec(select(AuditEntry))).all()
    assert [(e.action, e.detail) for e in entries] == [
        ("export.pulses", "format=csv rows=2 since=2026-11-01 workspace=T1")
    ]
