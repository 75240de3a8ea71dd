"""deploy/ and DEPLOY.md agree with the code: the example environment file is the one
`kudos-pulse init` writes and lists every environment variable the code reads (found by
scanning the source), and DEPLOY.md quotes the nginx file the TLS test runs."""

from __future__ import annotations

import ast
import re

from bot.ops.config import ENV_OVERRIDES
from bot.ops.init import ENV_NAME, template
from tests.conftest import ROOT

EXAMPLE = ROOT / "deploy" / "kudos-pulse.env.example"
SOURCES = ("bot", "adapters", "storage")
# Set by the bot itself for the processes it starts, never by an operator.
INTERNAL = {"KUDOS_PULSE_SUPERVISED", "KUDOS_PULSE_OWNS_METRICS_DIR"}
LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)


def _listed(text: str) -> set[str]:
    return set(LISTED.findall(text))


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "VALUE" strings, to resolve os.environ.get(NAME)."""
    found: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value.value
    return found


def _is_environment(node: ast.expr) -> bool:
    """os.environ, environ, or a parameter called env (a mapping standing for it)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id in {"environ", "env"}


def _read_in_code() -> set[str]:
    trees = [
        ast.parse(path.read_text(encoding="utf-8"))
        for folder in SOURCES
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
    ]
    constants: dict[str, str] = {}
    for tree in trees:
        constants |= _constants(tree)
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            key: ast.expr | None = None
            if isinstance(node, ast.Subscript) and _is_environment(node.value):
                key = node.slice
            elif isinstance(node, ast.Call) and node.args:
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr == "getenv":
                    key = node.args[0]
                elif (
                    isinstance(func, ast.Attribute)
                    and func.attr == "get"
                    and _is_environment(func.value)
                ):
                    key = node.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                names.add(key.value)
            elif isinstance(key, ast.Name) and key.id in constants:
                names.add(constants[key.id])
    return names


def test_the_example_is_what_init_writes() -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == template(ENV_NAME)


def test_init_ships_the_documented_app_yaml() -> None:
    assert template("app.yaml") == (ROOT / "app.yaml").read_text(encoding="utf-8")


def test_every_variable_the_bot_reads_is_listed() -> None:
    listed = _listed(EXAMPLE.read_text(encoding="utf-8"))
    in_code = _read_in_code()
    assert {
        "LOG_FORMAT",
        "KUDOS_PULSE_CONFIG",
        "PROMETHEUS_MULTIPROC_DIR",
    } <= in_code  # the scan works
    settings = [
        line
        for line in (ROOT / "app.yaml").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    from_yaml = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", "\n".join(settings)))
    wanted = (in_code | set(ENV_OVERRIDES) | from_yaml) - INTERNAL
    assert sorted(wanted - listed) == []
    assert sorted(listed - wanted) == []  # nothing listed that the bot ignores


def test_deploy_md_quotes_the_nginx_file_the_tls_test_runs() -> None:
    deploy = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```nginx\n(.*?)```", deploy, re.DOTALL)
    site = (ROOT / "deploy" / "nginx" / "kudos-pulse.conf").read_text(encoding="utf-8")
    assert blocks == [site]
