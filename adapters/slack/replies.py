"""Showing the core's immediate `Reply` in Slack: modal, response_url, ephemeral or post."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from adapters.slack.blockkit import fallback_text, modal_view, render_blocks
from adapters.slack.clients import SlackClients
from adapters.slack.inbound import Where
from adapters.slack.platform import SlackPlatform
from bot.messages import Form, Message, Reply, ReplyTo

log = logging.getLogger(__name__)


class ReplyPresenter:
    def __init__(self, clients: SlackClients, platform: SlackPlatform) -> None:
        self.clients = clients
        self.platform = platform

    async def show(self, reply: Reply, where: Where) -> None:
        for message in reply.messages:
            try:
                await self._show(message, where)
            except Exception:
                log.exception("could not show a reply to %s", where.user_id)

    async def _show(self, message: Message, where: Where) -> None:
        form = message.form
        if form is not None and form.modal and where.trigger_id:
            if await self._open_modal(message, form, where):
                return
        if isinstance(message.audience, ReplyTo):
            await self._answer(message, where, public=message.audience.public)
            return
        await self.platform.sender(where.scope, where.team_id).send(message, key="reply")

    async def _open_modal(self, message: Message, form: Form, where: Where) -> bool:
        others = [block for block in message.blocks if block is not form]
        view = modal_view(form, channel_id=where.channel_id, extra=others)
        client = await self.clients.for_workspace(where.scope, where.team_id)
        try:
            await client.views_open(trigger_id=where.trigger_id, view=view)
        except SlackApiError as error:  # e.g. expired_trigger: show the form inline instead
            code = error.response.get("error")
            log.warning("views.open failed (%s); showing the form inline", code)
            return False
        return True

    async def _answer(self, message: Message, where: Where, *, public: bool) -> None:
        body: dict[str, Any] = {
            "text": fallback_text(message),
            "blocks": render_blocks(message),
        }
        if where.response_url and await self._respond(where.response_url, body, public):
            return
        client = await self.clients.for_workspace(where.scope, where.team_id)
        if public and where.channel_id:
            await client.chat_postMessage(channel=where.channel_id, link_names=False, **body)
        elif where.channel_id:
            try:
                await client.chat_postEphemeral(
                    channel=where.channel_id, user=where.user_id, link_names=False, **body
                )
                return
            except SlackApiError as error:  # not in that channel any more: fall back to a DM
                log.info("ephemeral failed (%s); sending a DM", error.response.get("error"))
                await client.chat_postMessage(channel=where.user_id, link_names=False, **body)
        else:
            await client.chat_postMessage(channel=where.user_id, link_names=False, **body)

    async def _respond(self, url: str, body: dict[str, Any], public: bool) -> bool:
        payload = {
            **body,
            "response_type": "in_channel" if public else "ephemeral",
            "replace_original": False,
        }
        try:
            async with self.clients.session.post(url, json=payload) as response:
                return response.status < 400
        except Exception as error:
            log.warning("response_url failed (%s); answering another way", type(error).__name__)
            return False
