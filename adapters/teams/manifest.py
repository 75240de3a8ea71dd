"""`kudos-pulse manifest teams`: writes the Teams app package (manifest.json + two icons).

Upload the zip in Teams (Apps → Manage your apps → Upload an app) or in the Developer Portal.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from adapters.teams import pages
from adapters.teams.icons import color_icon, outline_icon
from bot.app import command_grammar
from bot.ops.config import Config

MANIFEST_VERSION = "1.17"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
APP_VERSION = "1.0.0"
ACCENT = "#5B5FC7"
SCOPES = ["personal", "team", "groupChat"]
DEFAULT_OUT = Path("teams-app.zip")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

# Teams shows at most ten commands per list: the everyday ones, with how to type them.
COMMANDS = [
    ("kudos", "Thank someone: kudos @person what they did #easy (alone: a form)"),
    ("kudos stats", "Your kudos received and given"),
    ("kudos top", "Who was recognised most: kudos top [week|month|quarter]"),
    ("home", "Your home: kudos received and given, pulses waiting for you, and more"),
    ("pulse now", 'Ask now: pulse now "SUBJECT" to @people, team:NAME or a channel (admins)'),
    (
        "pulse schedule",
        'Ask regularly: pulse schedule "SUBJECT" to … every mon at 10:00 (admins)',
    ),
    ("pulse results", "Results of a pulse: pulse results ID|latest"),
    ("team", "Teams of people: team create NAME lead @LEAD members @a @b (admins)"),
    ("digest now", "Your team's weekly digest: digest now [team:NAME]"),
]
MAX_COMMANDS = 10
# Words a Teams user never needs to type: pulse questions are answered on their card.
NOT_LISTED = {"answer"}


class ManifestError(ValueError):
    pass


def commands() -> list[dict[str, str]]:
    """The everyday commands, then any other command word the bot knows while there is room,
    and `help` last."""
    listed = [{"title": title, "description": text} for title, text in COMMANDS]
    covered = {title.split()[0] for title, _text in COMMANDS} | NOT_LISTED | {"help"}
    for word in command_grammar().words():
        if word not in covered:
            listed.append({"title": word, "description": f"Type '{word} help' to see how"})
    listed = listed[: MAX_COMMANDS - 1]
    listed.append({"title": "help", "description": "What this bot can do"})
    return [
        {"title": entry["title"][:32], "description": entry["description"][:128]}
        for entry in listed
    ]


def build_manifest(config: Config, app_id: str, url: str) -> dict[str, Any]:
    if not _GUID.match(app_id or ""):
        raise ManifestError(f"--app-id must be the bot's Microsoft app id (a GUID), not {app_id!r}")
    parsed = urlparse(url or "")
    if parsed.scheme != "https" or not parsed.hostname:
        raise ManifestError(f"--url must be the bot's public https URL, not {url!r}")
    base = url.rstrip("/")
    name = config.bot_name
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": APP_VERSION,
        "id": app_id,
        "developer": {
            "name": name[:32],
            "websiteUrl": base,
            "privacyUrl": pages.privacy_url(config, base),
            "termsOfUseUrl": pages.terms_url(config, base),
        },
        "name": {"short": name[:30], "full": f"{name} — recognition and pulses"[:100]},
        "description": {
            "short": "Give kudos to colleagues and answer EASY/VALUE pulses."[:80],
            "full": (
                "Thank colleagues with kudos tagged with your organisation's values, see who "
                "was recognised, answer one-tap pulses — did this make things EASY and add "
                "VALUE? — and give team leads a weekly digest of both. Mention the bot in a "
                "channel or chat with it directly: kudos @person what they did #easy."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": app_id,
                "scopes": SCOPES,
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": SCOPES, "commands": commands()}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [parsed.hostname],
    }


def write_package(manifest: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        # Teams expects the three files at the root of the zip, not in a folder.
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        package.writestr("color.png", color_icon(manifest["accentColor"]))
        package.writestr("outline.png", outline_icon())


def main(config: Config, args: argparse.Namespace) -> int:
    app_id = getattr(args, "app_id", None) or config.teams.app_id or ""
    url = getattr(args, "url", None) or config.public_url or ""
    out = Path(getattr(args, "out", None) or DEFAULT_OUT)
    try:
        manifest = build_manifest(config, app_id, url)
    except ManifestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    write_package(manifest, out)
    print(
        f"Wrote {out} (manifest {MANIFEST_VERSION}, bot {app_id}). Messaging endpoint for the "
        f"Azure Bot: {url.rstrip('/')}/api/messages"
    )
    return 0
