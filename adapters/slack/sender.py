"""Outbox deliveries into one Slack workspace: chat.postMessage, DMs by user id, chat.update.

Every post carries its outbox key in the message's `metadata`, so a delivery whose outcome was
never recorded (the worker died between Slack's answer and the database) can be recognised in
the channel's history instead of being posted twice (`find_delivered`).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blockkit import fallback_text, render_blocks
from adapters.slack.clients import SlackClients
from adapters.slack.errors import delivery_error
from bot.host import Delivery, DeliveryError, PermanentFailure, RateLimited
from bot.messages import Audience, Message, ToChannel, ToPerson

log = logging.getLogger(__name__)

OUTBOX_EVENT = "kudos_pulse_outbox"
# A history read looks back to the in-doubt claim only, in small pages: apps on Slack's lower
# history limits get at most 15 messages per call, and the message sought is among the newest.
HISTORY_PAGE = 15
HISTORY_PAGES = 3
# Our clock and Slack's may disagree a little; look back that much further.
CLOCK_SKEW = timedelta(minutes=2)
# Known DM channels (user id → D…); dropped wholesale when full, they are cheap to relearn.
IM_CACHE = 50_000


class SlackSender:
    def __init__(self, clients: SlackClients, team_id: str) -> None:
        self.clients = clients
        self.team_id = team_id
        self._ims: dict[str, str] = {}
        self._history_paused_until = 0.0

    async def send(self, message: Message, *, key: str, replace_ref: str | None = None) -> Delivery:
        channel = _target(message.audience)
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
        if message.thread_ref:  # "channel:ts" of the post this one replies under
            payload["thread_ts"] = message.thread_ref.partition(":")[2]
        paused = self.clients.pauses.remaining(self.team_id)
        if paused:
            raise RateLimited(paused, "slack: app_rate_limited for this workspace")
        try:
            client = await self.clients.for_workspace(self.team_id)
            if replace_ref:
                ref_channel, _, ts = replace_ref.partition(":")
                response = await client.chat_update(
                    channel=ref_channel, ts=ts, **_editable(payload)
                )
            else:
                # A user id posts straight into the bot's DM with them: no conversations.open.
                response = await client.chat_postMessage(
                    channel=channel,
                    metadata={"event_type": OUTBOX_EVENT, "event_payload": {"key": key}},
                    **payload,
                )
        except Exception as error:
            raise delivery_error(error) from error
        posted_in = str(response.get("channel") or channel)
        if isinstance(message.audience, ToPerson) and posted_in != channel:
            self._remember_im(channel, posted_in)
        return Delivery(ref=f"{posted_in}:{response.get('ts') or ''}")

    async def find_delivered(
        self, key: str, *, message: Message, since: datetime | None = None
    ) -> Delivery | None:
        """The message posted under `key`, if the target conversation's recent history holds it.

        History reads may be rate limited (new non-Marketplace apps get very low limits) or
        forbidden (no history scope, not in the channel). Any failure answers None, so the
        outbox resends: a rare duplicate is better than a lost message."""
        if time.monotonic() < self._history_paused_until:
            return None
        try:
            client = await self.clients.for_workspace(self.team_id)
            channel = await self._conversation(client, message.audience)
            oldest = f"{(since - CLOCK_SKEW).timestamp():.6f}" if since else None
            cursor: str | None = None
            for _ in range(HISTORY_PAGES):
                response = await client.conversations_history(
                    channel=channel,
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    oldest=oldest,
                    cursor=cursor,
                )
                for posted in response.get("messages") or []:
                    if _outbox_key(posted) == key:
                        return Delivery(ref=f"{channel}:{posted.get('ts') or ''}")
                cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return None
        except (SlackApiError, DeliveryError, aiohttp.ClientError, TimeoutError, OSError) as error:
            failure = delivery_error(error)
            if isinstance(failure, RateLimited):  # do not ask again for every in-doubt row
                self._history_paused_until = time.monotonic() + failure.retry_after
            log.warning("slack: cannot check whether %s arrived (%s); resending", key, failure)
            return None
        log.warning("slack: %s not among the newest messages checked; resending", key)
        return None

    async def _conversation(self, client: AsyncWebClient, audience: Audience) -> str:
        """The channel id whose history holds a message for `audience` (a DM's D… id)."""
        target = _target(audience)
        if not isinstance(audience, ToPerson):
            return target
        if target not in self._ims:
            try:
                opened = await client.conversations_open(users=target)
            except SlackApiError as error:
                raise delivery_error(error) from error
            channel = str((opened.get("channel") or {}).get("id") or "")
            if not channel:
                raise PermanentFailure(f"slack: no DM channel for {target}")
            self._remember_im(target, channel)
        return self._ims[target]

    def _remember_im(self, user_id: str, channel_id: str) -> None:
        if len(self._ims) >= IM_CACHE:
            self._ims.clear()
        self._ims[user_id] = channel_id


def _target(audience: Audience) -> str:
    if isinstance(audience, ToChannel):
        return audience.channel_id
    if isinstance(audience, ToPerson):
        return audience.user_id  # a user id posts into the bot's DM with that person
    raise PermanentFailure("a private reply cannot wait in the outbox")


def _outbox_key(posted: dict[str, Any]) -> str | None:
    metadata = posted.get("metadata") or {}
    if metadata.get("event_type") != OUTBOX_EVENT:
        return None
    return str((metadata.get("event_payload") or {}).get("key") or "") or None


def _editable(payload: dict[str, Any]) -> dict[str, Any]:
    return {key: payload[key] for key in ("text", "blocks", "link_names")}
