"""The core stays platform-neutral: nothing in bot/ imports a Slack or Teams library."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import ROOT

FORBIDDEN = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "adapters")


def test_bot_package_has_no_platform_imports() -> None:
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {name}" for name in names if name.split(".")[0] in FORBIDDEN
            ]
    # The console is started by the CLI, which is allowed to pick an adapter by name.
    assert offenders == ["cli.py: adapters.console"]


def test_importing_the_core_loads_no_platform_sdk() -> None:
    code = (
        "import sys, bot.app, bot.core, bot.cli, bot.outbox; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('slack_bolt','slack_sdk','botbuilder','botframework')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
