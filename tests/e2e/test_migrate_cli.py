"""`kudos-pulse migrate` on an empty database and an existing one; a second run changes nothing."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES, ROOT
from tests.harness.postgres import as_admin, database_url


def _migrate(url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "KUDOS_PULSE_CONFIG": str(ROOT / "app.yaml")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def test_migrate_creates_then_is_a_no_op_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'kudos.db'}"
    first = _migrate(url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Migrated empty database →" in first.stdout
    assert (tmp_path / "fresh" / "kudos.db").exists()

    second = _migrate(url, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "Database is up to date" in second.stdout


def test_default_database_is_created_in_the_working_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["KUDOS_PULSE_CONFIG"] = str(ROOT / "app.yaml")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "kudos_pulse.db").exists()


@pytest.mark.skipif(not ON_POSTGRES, reason="needs TEST_DATABASE_URL=postgresql+asyncpg://…")
def test_migrate_an_empty_postgres_database(tmp_path: Path) -> None:
    name = f"kp_migrate_{uuid.uuid4().hex[:8]}"
    asyncio.run(as_admin(f'CREATE DATABASE "{name}"'))
    try:
        url = database_url(name)
        first = _migrate(url, tmp_path)
        assert first.returncode == 0, first.stderr
        assert "Migrated empty database →" in first.stdout
        second = _migrate(url, tmp_path)
        assert "Database is up to date" in second.stdout
    finally:
        asyncio.run(as_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
