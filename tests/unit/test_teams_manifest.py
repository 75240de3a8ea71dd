"""`kudos-pulse manifest teams` writes a package Teams accepts: a zip with manifest.json and
the two icons at its root, the manifest complete for the schema version it declares."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from bot.app import command_grammar
from bot.ops.cli import main
from tests.conftest import ROOT

APP_ID = "11111111-2222-3333-4444-555555555555"

# Required properties of the app manifest schema v1.17
# (https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json).
V117_REQUIRED = [
    "manifestVersion",
    "version",
    "id",
    "developer",
    "name",
    "description",
    "icons",
    "accentColor",
]
V117_REQUIRED_IN = {
    "developer": ["name", "websiteUrl", "privacyUrl", "termsOfUseUrl"],
    "name": ["short", "full"],
    "description": ["short", "full"],
    "icons": ["outline", "color"],
}
# Top-level properties the schema allows (additionalProperties is false); the ones we may use.
V117_TOP_LEVEL = {
    "$schema",
    "manifestVersion",
    "version",
    "id",
    "packageName",
    "localizationInfo",
    "developer",
    "name",
    "description",
    "icons",
    "accentColor",
    "configurableTabs",
    "staticTabs",
    "bots",
    "connectors",
    "subscriptionOffer",
    "composeExtensions",
    "permissions",
    "devicePermissions",
    "validDomains",
    "webApplicationInfo",
    "showLoadingIndicator",
    "isFullScreen",
    "activities",
}
MAX_LENGTHS = {
    ("developer", "name"): 32,
    ("name", "short"): 30,
    ("name", "full"): 100,
    ("description", "short"): 80,
    ("description", "full"): 4000,
}
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, RGBA rows) of an 8-bit RGBA, non-interlaced PNG with filter 0 rows."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, color_type = struct.unpack(">IIBB", header[:10])
    assert (depth, color_type) == (8, 6)
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    rows = [raw[row * stride + 1 : (row + 1) * stride] for row in range(height)]
    return width, height, rows


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> zipfile.ZipFile:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "teams-app.zip"
    code = main(
        [
            "manifest",
            "teams",
            "--app-id",
            APP_ID,
            "--url",
            "https://kudos.example.com/",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return zipfile.ZipFile(out)


def test_the_package_holds_the_manifest_and_icons_at_its_root(package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_has_what_its_declared_schema_version_requires(
    package: zipfile.ZipFile,
) -> None:
    manifest: dict[str, Any] = json.loads(package.read("manifest.json"))

    version = manifest["manifestVersion"]
    assert version == "1.17"
    assert manifest["$schema"].endswith(f"/v{version}/MicrosoftTeams.schema.json")
    assert [key for key in V117_REQUIRED if key not in manifest] == []
    for parent, keys in V117_REQUIRED_IN.items():
        assert [key for key in keys if key not in manifest[parent]] == [], parent
    assert set(manifest) <= V117_TOP_LEVEL
    for (parent, key), limit in MAX_LENGTHS.items():
        assert len(manifest[parent][key]) <= limit, (parent, key)
    assert GUID.match(manifest["id"])
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["accentColor"])
    assert all(
        manifest["developer"][key].startswith("https://")
        for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl")
    )
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["validDomains"] == ["kudos.example.com"]

    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    [command_list] = bot["commandLists"]
    assert set(command_list) == {"scopes", "commands"}
    assert 1 <= len(command_list["commands"]) <= 10
    for command in command_list["commands"]:
        assert set(command) == {"title", "description"}
        assert len(command["title"]) <= 32 and len(command["description"]) <= 128
    assert "kudos" in [command["title"] for command in command_list["commands"]]


def test_the_icons_have_the_sizes_teams_requires(package: zipfile.ZipFile) -> None:
    manifest = json.loads(package.read("manifest.json"))
    color_width, color_height, _ = read_png(package.read(manifest["icons"]["color"]))
    width, height, rows = read_png(package.read(manifest["icons"]["outline"]))

    assert (color_width, color_height) == (192, 192)
    assert (width, height) == (32, 32)
    pixels = {bytes(row[i : i + 4]) for row in rows for i in range(0, len(row), 4)}
    # white on transparent: every pixel is either fully transparent or opaque white
    assert pixels == {b"\x00\x00\x00\x00", b"\xff\xff\xff\xff"}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--app-id", "not-a-guid", "--url", "https://kudos.example.com"], "GUID"),
        (["--app-id", APP_ID, "--url", "http://kudos.example.com"], "https"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    problem: str,
) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "teams-app.zip"
    assert main(["manifest", "teams", *args, "--out", str(out)]) == 2
    assert problem in capsys.readouterr().err
    assert not out.exists()


def test_the_command_list_offers_pulses_teams_and_digests_as_typed(
    package: zipfile.ZipFile,
) -> None:
    manifest = json.loads(package.read("manifest.json"))
    [command_list] = manifest["bots"][0]["commandLists"]
    titles = [command["title"] for command in command_list["commands"]]

    assert {"pulse now", "pulse schedule", "pulse results", "team", "digest now"} <= set(titles)
    assert titles[-1] == "help"
    # Picking a command from the list types its title: each starts with a word the bot reads.
    assert all(title.split()[0] in command_grammar().words() for title in titles)
