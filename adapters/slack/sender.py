"""Outbox deliveries into one Slack workspace: chat.postMessage, DMs by user id, chat.update."""

from __future__ import annotations

from typing import Any

from adapters.slack.blockkit import fallback_text, render_blocks
from adapters.slack.clients import SlackClients
from adapters.slack.errors import delivery_error
from bot.messages import Message, ToChannel, ToPerson
from bot.ports import Delivery, PermanentFailure


class SlackSender:
    def __init__(self, clients: SlackClients, team_id: str) -> None:
        self.clients = clients
        self.team_id = team_id

    async def send(self, message: Message, *, key: str, replace_ref: str | None = None) -> Delivery:
        audience = message.audience
        if isinstance(audience, ToChannel):
            channel = audience.channel_id
        elif isinstance(audience, ToPerson):
            channel = audience.user_id  # a user id posts into the bot's DM with that person
        else:
            raise PermanentFailure("a private reply cannot wait in the outbox")
        try:
            blocks = render_blocks(message)
        except ValueError as error:  # cannot fit Slack's limits; retrying would not change that
            raise PermanentFailure(f"slack: cannot render: {error}") from error
        payload: dict[str, Any] = {
            "text": fallback_text(message),
            "blocks": blocks,
            # Never let Slack turn plain "@here" into a ping (PLATFORMS.md §1.7).
            "link_names": False,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        try:
            client = await self.clients.for_workspace(self.team_id)
            if replace_ref:
                ref_channel, _, ts = replace_ref.partition(":")
                response = await client.chat_update(
                    channel=ref_channel, ts=ts, **_editable(payload)
                )
            else:
                response = await client.chat_postMessage(channel=channel, **payload)
        except Exception as error:
            raise delivery_error(error) from error
        return Delivery(ref=f"{response.get('channel') or channel}:{response.get('ts') or ''}")


def _editable(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: payload[key] for key in ("text", "blocks", "link_names")}
