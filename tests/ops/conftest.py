"""Helpers for the operator commands: run `kudos-pulse …` in-process against the test database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator

import pytest

from bot.ops.cli import main
from bot.ops.logsetup import CHATTY
from tests.conftest import ROOT

Cli = Callable[..., Awaitable[int]]


@pytest.fixture(autouse=True)
def _keep_logging() -> Iterator[None]:
    """The CLI configures the root logger; give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in CHATTY}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in chatty.items():
        logging.getLogger(name).setLevel(saved)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`await cli("export", "recognitions", …)` runs the real CLI on the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("LOG_FORMAT", raising=False)

    async def run(*argv: str, env: dict[str, str] | None = None) -> int:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        arguments = ["--config", str(ROOT / "app.yaml"), "--log-level", "WARNING", *argv]
        # main() runs its own event loop, so it gets a thread of its own.
        return await asyncio.to_thread(main, arguments)

    return run
