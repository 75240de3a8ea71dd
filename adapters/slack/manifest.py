"""`kudos-pulse manifest slack --url https://…`: the Slack app manifest (YAML) for this bot."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.ops.config import Config

# What the bot does with each scope:
BOT_SCOPES = [
    "commands",  # /kudos, /pulse, /team, /digest
    "chat:write",  # celebrations, DMs, ephemeral answers
    "chat:write.public",  # post in the kudos channel without being invited first
    "users:read",  # users.info: names, time zones, bots, admins
    "users:read.email",  # the address, kept only as a keyed digest: erasure by email
    "reactions:read",  # reaction_added / reaction_removed
    "channels:history",  # the text of a message that got the kudos reaction …
    "groups:history",  # … in private channels,
    "im:history",  # … direct messages
    "mpim:history",  # … and group DMs
    "channels:read",  # conversations.members: pulse audiences and team channels
    "groups:read",
    "im:write",  # open a DM with a person
    "files:write",  # charts uploaded to a lead's DM (files.getUploadURLExternal)
]

BOT_EVENTS = [
    "reaction_added",
    "reaction_removed",
    "app_uninstalled",
    "tokens_revoked",
    "message.im",  # commands typed in the bot's DM (Messages tab); needs im:history
    "app_home_opened",  # publish the person's home (Home tab); needs no extra scope
]

COMMANDS = [
    ("/kudos", "Thank someone: @person what they did #easy #value", "@person what they did #tag"),
    ("/pulse", "Ask whether a change made things EASY and added VALUE", "schedule | now | list"),
    ("/team", "Set up teams for digests", "create | add | remove | lead | list | show"),
    ("/digest", "Weekly digests for team leads", "schedule | now | list | cancel"),
]


def build(config: Config, url: str | None) -> dict[str, Any]:
    base = url.rstrip("/") if url else None
    events_url = f"{base}/slack/events" if base else None
    socket_mode = bool(config.slack.app_token)
    name = config.bot_name[:35]
    commands = []
    for command, description, hint in COMMANDS:
        entry: dict[str, Any] = {
            "command": command,
            "description": description,
            "usage_hint": hint,
            # Slack then sends mentions as <@U123|name>, which the bot needs to know who is meant.
            "should_escape": True,
        }
        if events_url:
            entry["url"] = events_url
        commands.append(entry)
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": BOT_EVENTS},
        "interactivity": {"is_enabled": True},
        "socket_mode_enabled": socket_mode,
        "token_rotation_enabled": False,
        # Enterprise Grid: lets an org admin install once for the whole org (org-wide); a
        # workspace outside Grid installs as before.
        "org_deploy_enabled": True,
    }
    if events_url:
        settings["event_subscriptions"]["request_url"] = events_url
        settings["interactivity"]["request_url"] = events_url
    oauth: dict[str, Any] = {"scopes": {"bot": list(BOT_SCOPES)}}
    if base:
        oauth["redirect_urls"] = [f"{base}/slack/oauth_redirect"]
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Peer kudos and EASY/VALUE pulses, with weekly digests for leads.",
            "background_color": "#1d4f91",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": commands,
        },
        "oauth_config": oauth,
        "settings": settings,
    }


def render(config: Config, url: str | None) -> str:
    return yaml.safe_dump(build(config, url), sort_keys=False, allow_unicode=True, width=100)


def main(config: Config, args: argparse.Namespace) -> int:
    url = getattr(args, "url", None) or config.public_url
    if not url and not config.slack.app_token:
        print(
            "kudos-pulse: give the bot's public URL, e.g. --url https://kudos.example.org "
            "(or set SLACK_APP_TOKEN for Socket Mode)",
            file=sys.stderr,
        )
        return 2
    if url and urlparse(url).scheme != "https":
        print(f"kudos-pulse: Slack only calls https URLs, not {url!r}", file=sys.stderr)
        return 2
    text = render(config, url)
    out: Path | None = getattr(args, "out", None)
    if out:
        out.write_text(text, encoding="utf-8")
        print(f"Wrote {out}")
    else:
        print(text, end="")
    return 0
