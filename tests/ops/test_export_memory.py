"""Exporting 200,000 recognitions keeps memory flat: the export process grows by a small
fraction of the data it writes (a few batches' worth), not by the table's size."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from storage.db import Database
from storage.models import Recognition
from tests.conftest import ROOT
from tests.harness.helpers import count
from tests.ops.bulk import fill_recognitions

ROWS = 200_000
# Runs the real CLI and reports the process's peak resident memory (KiB) on stderr.
MEASURED = (
    "import resource, sys; from bot.ops.cli import main; code = main(sys.argv[1:]); "
    "print('peak_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


async def _export_peak_kib(database_url: str, out: Path, *extra: str) -> int:
    env = {**os.environ, "DATABASE_URL": database_url, "KUDOS_PULSE_CONFIG": str(ROOT / "app.yaml")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        MEASURED,
        "export",
        "recognitions",
        "--out",
        str(out),
        *extra,
        env=env,
        cwd=ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=300)
    assert process.returncode == 0, stderr.decode()
    line = next(x for x in stderr.decode().splitlines() if x.startswith("peak_kib"))
    return int(line.split()[1])


@pytest.mark.slow
async def test_export_200k_rows_in_bounded_memory(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    await fill_recognitions(db, ROWS)
    assert await count(db, Recognition) == ROWS

    # The same process exporting nothing: interpreter, libraries, engine.
    baseline = await _export_peak_kib(database_url, tmp_path / "none.csv", "--since", "2100-01-01")
    out = tmp_path / "all.csv"
    peak = await _export_peak_kib(database_url, out)

    with out.open(encoding="utf-8") as handle:
        header = next(handle)
        lines = 1 + sum(1 for _ in handle)
    assert header.startswith("id,time,workspace,giver,recipients,tags,reason")
    assert lines == ROWS + 1
    written_kib = out.stat().st_size // 1024
    growth = peak - baseline
    # Holding the rows as Python objects would take many times the file's size.
    assert growth < written_kib / 2, f"grew {growth} KiB exporting {written_kib} KiB"
