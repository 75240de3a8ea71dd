"""Socket Mode: with SLACK_APP_TOKEN the bot takes Slack's envelopes over a WebSocket."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from tests.harness.fakes.slack_api import TEAM, FakeSlack, block_text
from tests.harness.helpers import stored_kudos
from tests.harness.slack import running, slack_config

pytestmark = pytest.mark.asyncio


async def test_a_slash_command_over_socket_mode_is_acked_and_answered(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> None:
    socket = slack_config(config, fake_slack, app_token="xapp-test", signing_secret=None)
    async with running(socket, db, clock, fake_slack) as slack:
        assert not any(
            route.resource is not None and route.resource.canonical == "/slack/events"
            for route in slack.app.web.router.routes()
        )  # without a signing secret there is no HTTP endpoint to forge requests against
        background = asyncio.create_task(slack.app.run_background())
        try:
            await fake_slack.push(
                {
                    "envelope_id": "env-1",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": {
                        "team_id": TEAM,
                        "user_id": "UALICE",
                        "user_name": "alice",
                        "channel_id": "CGENERAL",
                        "command": "/kudos",
                        "text": "<@UBOB|bob> for answering every question in the channel #easy",
                        "response_url": fake_slack.response_url("socket"),
                        "trigger_id": "trigger-socket",
                    },
                }
            )
            for _ in range(200):
                if fake_slack.socket_acks and fake_slack.to("chat.postMessage"):
                    break
                await asyncio.sleep(0.05)
            await slack.app.inbox.drain()
            await slack.adapter.work.drain()
        finally:
            slack.app.stopping.set()
            await asyncio.wait_for(background, timeout=15)

    assert [ack["envelope_id"] for ack in fake_slack.socket_acks] == ["env-1"]
    assert REGISTRY.get_sample_value("kudos_pulse_ack_seconds_count", {"platform": "slack"})
    assert fake_slack.to("apps.connections.open")[0].token == "xapp-test"
    answers = [r for r in fake_slack.responses if r["name"] == "socket"]
    assert "Kudos sent to <@UBOB>" in block_text(answers[0]["blocks"])
    assert await stored_kudos(db) == (1, 1, 2)
