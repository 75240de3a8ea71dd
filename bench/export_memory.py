"""Export memory: peak memory of `kudos-pulse export recognitions` against table size.

    .venv/bin/python bench/export_memory.py [--database-url URL] [--rows 50000 200000 1000000]

For each size it fills a fresh database (a SQLite file in a temporary directory unless a
PostgreSQL URL is given — that database's tables are emptied), then runs the real CLI in a
child process and reports its peak resident memory, the growth over an export of nothing,
the bytes written and the rate. Flat growth across sizes means the export streams.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import storage.models  # noqa: E402, F401
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.ops.bulk import fill_recognitions  # noqa: E402

MEASURED = (
    "import resource, sys; from bot.ops.cli import main; code = main(sys.argv[1:]); "
    "print('peak_kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
    "sys.exit(code)"
)


async def _fresh(url: str) -> Database:
    db = Database(url)
    await migrate.upgrade(db)
    if not db.is_sqlite:
        names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        async with db.engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    return db


def _export(url: str, out: Path, fmt: str, *extra: str) -> tuple[int, float]:
    import subprocess

    env = {**os.environ, "DATABASE_URL": url, "KUDOS_PULSE_CONFIG": str(ROOT / "app.yaml")}
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            MEASURED,
            "export",
            "recognitions",
            "--format",
            fmt,
            "--out",
            str(out),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - started
    peak = next(int(x.split()[1]) for x in done.stderr.splitlines() if x.startswith("peak_kib"))
    return peak, elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url")
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 200_000, 1_000_000])
    parser.add_argument("--format", default="csv", choices=["csv", "jsonl"])
    args = parser.parse_args()
    print(f"{'rows':>9} {'written MiB':>11} {'peak MiB':>9} {'growth MiB':>10} {'rows/s':>8}")
    with tempfile.TemporaryDirectory() as scratch:
        for rows in args.rows:
            url = args.database_url or f"sqlite+aiosqlite:///{scratch}/bench-{rows}.db"
            db = await _fresh(url)
            await fill_recognitions(db, rows)
            await db.dispose()
            baseline, _ = _export(url, Path(scratch) / "none", args.format, "--since", "2100-01-01")
            out = Path(scratch) / f"out-{rows}"
            peak, elapsed = _export(url, out, args.format)
            print(
                f"{rows:>9,} {out.stat().st_size / 2**20:>11.1f} {peak / 1024:>9.1f} "
                f"{(peak - baseline) / 1024:>10.1f} {rows / elapsed:>8,.0f}"
            )
            out.unlink()


if __name__ == "__main__":
    asyncio.run(main())
