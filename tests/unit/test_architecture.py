"""The layout's rules, checked on the code itself (see docs/ARCHITECTURE.md).

Every import counts here, wherever it stands: at the top, inside a function, or under
`TYPE_CHECKING` — a cycle hidden in a function body is still a cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

PLATFORM_SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework")
ORM = ("sqlalchemy", "sqlmodel", "alembic")
FEATURES = ("kudos", "groups", "digests", "pulses", "home")
FEATURE_PARTS = {"commands", "grammar", "rules", "service", "messages", "install"}
# The one contract a feature may read from another (docs/ARCHITECTURE.md).
PUBLISHED_CONTRACTS = {"bot.pulses.contract"}
PACKAGES = ("bot", "adapters", "storage")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _sources() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield _module_name(path), path


def _imports(module: str, path: Path) -> set[str]:
    """Every module this file imports, anywhere in it, resolved to absolute names."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from bot.runtime import outbox` imports the module bot.runtime.outbox
            submodules = {f"{base}.{alias.name}" for alias in node.names}
            submodules = {name for name in submodules if _is_module(name)}
            found.update(submodules or {base})
    return found


def _graph() -> dict[str, set[str]]:
    modules = dict(_sources())
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        graph[module] = {name for name in _imports(module, path) if name in modules}
        graph[module].discard(module)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in graph:
        if node not in index:
            visit(node)
    return found


def _imports_of(prefix: str) -> Iterator[tuple[str, str]]:
    for module, path in _sources():
        if module == prefix or module.startswith(prefix + "."):
            for name in _imports(module, path):
                yield module, name


def test_no_import_cycles_anywhere() -> None:
    assert _cycles(_graph()) == []


def test_bot_imports_no_platform_sdk_and_no_adapter() -> None:
    offenders = [
        (module, name)
        for module, name in _imports_of("bot")
        if name.split(".")[0] in (*PLATFORM_SDKS, "adapters")
    ]
    # The CLI may start the console by module name; adapters are otherwise loaded by name in
    # bot/app.py so a console run never loads a platform SDK.
    assert offenders == [("bot.ops.cli", "adapters.console")]


def test_bot_imports_no_orm_library() -> None:
    offenders = [(m, n) for m, n in _imports_of("bot") if n.split(".")[0] in ORM]
    assert offenders == []


def test_storage_never_imports_bot() -> None:
    offenders = [(m, n) for m, n in _imports_of("storage") if n.split(".")[0] in ("bot", "adapters")]
    assert offenders == []


def test_features_import_each_other_only_through_published_contracts() -> None:
    offenders = []
    for feature in FEATURES:
        for module, name in _imports_of(f"bot.{feature}"):
            parts = name.split(".")
            if len(parts) > 1 and parts[0] == "bot" and parts[1] in FEATURES:
                if parts[1] != feature and ".".join(parts[:3]) not in PUBLISHED_CONTRACTS:
                    offenders.append((module, name))
    assert offenders == []


def test_shared_core_imports_no_feature() -> None:
    """Only the composition root (bot.app) and the operator commands know the features."""
    knows_features = {"bot.app", "bot.ops.cli", "bot.ops.opscli", "bot.ops.export"}
    offenders = [
        (module, name)
        for module, name in _imports_of("bot")
        if module.split(".")[1] not in FEATURES
        and module not in knows_features
        and len(name.split(".")) > 1
        and name.split(".")[0] == "bot"
        and name.split(".")[1] in FEATURES
    ]
    assert offenders == []


def test_bot_has_at_most_fifteen_top_level_entries() -> None:
    entries = [p.name for p in (ROOT / "bot").iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 15, sorted(entries)


def test_every_feature_has_the_same_parts() -> None:
    for feature in FEATURES:
        parts = {p.stem for p in (ROOT / "bot" / feature).glob("*.py")}
        assert FEATURE_PARTS <= parts, (feature, sorted(FEATURE_PARTS - parts))


def test_feature_rules_are_pure() -> None:
    """A feature's rules.py decides from plain values: nothing it reaches, directly or through
    another module, touches storage, the runtime, a platform or the network."""
    graph = _graph()
    modules = dict(_sources())
    io_packages = ("storage", "adapters", *ORM, *PLATFORM_SDKS, "aiohttp", "asyncpg", "aiosqlite")
    io_modules = ("bot.runtime", "bot.people", "bot.app", "bot.core", "bot.host")
    offenders = []
    for feature in FEATURES:
        reached, todo = set(), [f"bot.{feature}.rules"]
        while todo:
            module = todo.pop()
            if module not in reached:
                reached.add(module)
                todo.extend(graph[module])
        for module in sorted(reached):
            for name in _imports(module, modules[module]):
                top = name.split(".")[0]
                part = name.rsplit(".", 1)[-1]
                if (
                    top in io_packages
                    or name.startswith(io_modules)
                    or (name.startswith("bot.") and part in ("service", "install"))
                ):
                    offenders.append((feature, module, name))
    assert offenders == []


def test_importing_the_core_loads_no_platform_sdk() -> None:
    code = (
        "import sys, bot.app, bot.core, bot.ops.cli, bot.runtime.outbox; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('slack_bolt','slack_sdk','botbuilder','botframework')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
