"""The generated Slack manifest and Teams package validate against the platforms' published
schemas, read from `../shared/schemas/` beside the project (never copied into it)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema.validators import validator_for

from bot.ops.cli import main
from tests.conftest import ROOT

SCHEMAS = ROOT.parent / "shared" / "schemas"
APP_ID = "11111111-2222-3333-4444-555555555555"

pytestmark = pytest.mark.skipif(
    not SCHEMAS.is_dir(), reason=f"the published schemas are not at {SCHEMAS}"
)


def problems(document: dict[str, Any], schema_file: str) -> list[str]:
    schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
    validator = validator_for(schema)(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket mode"])
def test_the_slack_manifest_validates(
    socket_mode: bool, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if socket_mode:
        monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-test")
    else:
        monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert main(["manifest", "slack", "--url", "https://kudos.example.com/"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)
    assert problems(manifest, "slack-manifest.schema.1.0.0.json") == []


def _teams_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "teams-app.zip"
    arguments = ["--app-id", APP_ID, "--url", "https://kudos.example.com/", "--out", str(out)]
    assert main(["manifest", "teams", *arguments]) == 0
    with zipfile.ZipFile(out) as package:
        return json.loads(package.read("manifest.json"))


def test_the_teams_manifest_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = _teams_manifest(tmp_path, monkeypatch)
    assert problems(manifest, "teams-manifest.schema.1.17.json") == []
    [command_list] = manifest["bots"][0]["commandLists"]
    assert len(command_list["commands"]) == 10  # the schema's maximum, chosen on purpose
    developer = manifest["developer"]
    assert developer["privacyUrl"] == "https://kudos.example.com/privacy"  # served by the bot
    assert developer["termsOfUseUrl"] == "https://kudos.example.com/terms"


def test_configured_privacy_and_terms_pages_go_into_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAMS_PRIVACY_URL", "https://example.org/legal/privacy")
    monkeypatch.setenv("TEAMS_TERMS_URL", "https://example.org/legal/terms")
    manifest = _teams_manifest(tmp_path, monkeypatch)
    assert manifest["developer"]["privacyUrl"] == "https://example.org/legal/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://example.org/legal/terms"
    assert problems(manifest, "teams-manifest.schema.1.17.json") == []
