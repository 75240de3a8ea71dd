"""`kudos-pulse manifest slack` prints a manifest Slack accepts for this bot."""

from __future__ import annotations

import pytest
import yaml

from bot.ops.cli import main


def test_manifest_names_every_url_scope_command_and_event(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    assert main(["manifest", "slack", "--url", "https://example.org/"]) == 0
    manifest = yaml.safe_load(capsys.readouterr().out)

    events = "https://example.org/slack/events"
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/kudos", "/pulse", "/team", "/digest"}
    assert all(c["url"] == events and c["should_escape"] is True for c in commands.values())
    settings = manifest["settings"]
    assert settings["event_subscriptions"]["request_url"] == events
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "reaction_added",
        "reaction_removed",
        "app_uninstalled",
        "tokens_revoked",
        "message.im",  # commands typed in the bot's DM (issue 15)
        "app_home_opened",  # the person's home on the Home tab (issue 18)
    }
    assert "im:history" in manifest["oauth_config"]["scopes"]["bot"]  # what message.im needs
    assert settings["interactivity"] == {"is_enabled": True, "request_url": events}
    assert settings["socket_mode_enabled"] is False
    assert manifest["oauth_config"]["redirect_urls"] == ["https://example.org/slack/oauth_redirect"]
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "users:read", "reactions:read", "channels:history"} <= scopes
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert len(manifest["display_information"]["name"]) <= 35


def test_manifest_needs_an_https_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    monkeypatch.delenv("KUDOS_PULSE_PUBLIC_URL", raising=False)
    assert main(["manifest", "slack", "--url", "http://example.org"]) == 2
    assert "only calls https URLs" in capsys.readouterr().err
    assert main(["manifest", "slack"]) == 2
    assert "--url" in capsys.readouterr().err
