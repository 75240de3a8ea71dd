"""Outbox deliveries into one Slack workspace: chat.postMessage, DMs by user id, chat.update.

Every post carries its outbox key in the message's `metadata`, so a delivery whose outcome was
never recorded (the worker died between Slack's answer and the database) can be recognised in
the channel's history instead of being posted twice (`find_delivered`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blockkit import fallback_text, render_blocks
from adapters.slack.clients import SlackClients
from adapters.slack.errors import delivery_error, error_code
from adapters.slack.text import cut_plain, escape
from bot.host import CannotTell, Delivery, DeliveryError, PermanentFailure, RateLimited
from bot.messages import Audience, Message, ToChannel, ToPerson

log = logging.getLogger(__name__)

OUTBOX_EVENT = "kudos_pulse_outbox"
# A history read looks back to the in-doubt claim only, in small pages: apps on Slack's lower
# history limits get at most 15 messages per call, and the message sought is among the newest.
HISTORY_PAGE = 15
HISTORY_PAGES = 3
# Our clock and Slack's may disagree a little; look back that much further.
CLOCK_SKEW = timedelta(minutes=2)
# Slack cuts a file's alt text at 1000 characters; we cut first, with an ellipsis.
ALT_TEXT = 1000
# Answers meaning "not visible with this token", where another install of the org may reach it.
ELSEWHERE = frozenset(
    {"channel_not_found", "not_in_channel", "user_not_found", "cannot_dm_bot", "not_allowed"}
)
# Known DM channels (user id → D…); dropped wholesale when full, they are cheap to relearn.
IM_CACHE = 50_000


class SlackSender:
    def __init__(self, clients: SlackClients, scope: str, team_id: str = "") -> None:
        self.clients = clients
        self.scope = scope  # the workspace record's id: the Grid org, else the team
        self.team_id = team_id  # the team asked from, when answering a request
        self._ims: dict[str, str] = {}
        self._history_paused_until = 0.0
        # One history read at a time per workspace: a 429 then stops the next one from asking.
        self._reading = asyncio.Lock()

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
        # Slack names the workspace (or, for an org-wide install, the org) it holds back.
        pauses = self.clients.pauses
        paused = max(pauses.remaining(self.scope), pauses.remaining(self.team_id or self.scope))
        if paused:
            raise RateLimited(paused, "slack: app_rate_limited for this workspace")
        try:
            tokens = await self.clients.tokens(self.scope, self.team_id)
        except Exception as error:
            raise delivery_error(error, posting=not replace_ref) from error
        for attempt, token in enumerate(tokens, start=1):
            # New posts go through a client that never resends a dropped request by itself.
            client = (
                self.clients.for_token(token) if replace_ref else self.clients.for_posting(token)
            )
            try:
                response = await self._post(client, payload, channel, key, replace_ref)
                break
            except SlackApiError as error:
                # Per-workspace installs inside a Grid org: a channel (or person) of another
                # workspace of the org is reached with that workspace's own token.
                if attempt < len(tokens) and error_code(error) in ELSEWHERE:
                    continue
                raise delivery_error(error, posting=not replace_ref) from error
            except Exception as error:
                raise delivery_error(error, posting=not replace_ref) from error
        posted_in = str(response.get("channel") or channel)
        if isinstance(message.audience, ToPerson) and posted_in != channel:
            self._remember_im(channel, posted_in)
        if not replace_ref:
            await self._upload_charts(client, message, posted_in)
        return Delivery(ref=f"{posted_in}:{response.get('ts') or ''}")

    async def _upload_charts(self, client: AsyncWebClient, message: Message, channel: str) -> None:
        """Each drawn chart as a file in the conversation just posted to, with the current
        upload API (files.getUploadURLExternal → POST the bytes → files.completeUploadExternal,
        which files_upload_v2 performs). The message itself is already delivered and says what
        the charts show, so a failed upload is logged, not retried (a retry would repost it)."""
        for chart in message.charts:
            if chart.png is None:
                continue
            try:
                await client.files_upload_v2(
                    channel=channel,
                    file=chart.png,
                    filename=chart.filename,
                    title=cut_plain(chart.title, ALT_TEXT),
                    alt_txt=cut_plain(chart.alt, ALT_TEXT),
                    # Shown as message text: escaped, so a team's name can never ping.
                    initial_comment=escape(cut_plain(f"📊 {chart.title}", ALT_TEXT)),
                )
            except Exception as error:
                log.warning("slack: chart %s not uploaded: %s", chart.chart, delivery_error(error))
    @staticmethod
    async def _post(
        client: AsyncWebClient,
        payload: dict[str, Any],
        channel: str,
        key: str,
        replace_ref: str | None,
    ) -> Any:
        if replace_ref:
            ref_channel, _, ts = replace_ref.partition(":")
            return await client.chat_update(channel=ref_channel, ts=ts, **_editable(payload))
        # A user id posts straight into the bot's DM with them: no conversations.open.
        return await client.chat_postMessage(
            channel=channel,
            metadata={"event_type": OUTBOX_EVENT, "event_payload": {"key": key}},
            **payload,
        )

    async def find_delivered(
        self, key: str, *, message: Message, since: datetime | None = None
    ) -> Delivery | None:
        """The message posted under `key`, if the target conversation's recent history holds it;
        None if the history since `since` has been read to its end without it.

        History reads may be rate limited (new non-Marketplace apps get very low limits) or
        forbidden (no history scope, not in the channel). After a 429 no history is asked for
        in this workspace until Retry-After has passed — every check meanwhile answers
        `RateLimited` at once — so each in-doubt message costs one check at most, and a
        burst of them costs one refused call. Anything else that prevents an answer raises
        `CannotTell`."""
        async with self._reading:
            return await self._look_up(key, message, since)

    async def _look_up(self, key: str, message: Message, since: datetime | None) -> Delivery | None:
        paused = self._history_paused_until - time.monotonic()
        if paused > 0:
            raise RateLimited(paused, "slack: history reads paused after a 429")
        try:
            client = await self.clients.for_workspace(self.scope, self.team_id)
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
            if isinstance(failure, RateLimited):
                self._history_paused_until = time.monotonic() + failure.retry_after
                raise failure from error
            raise CannotTell(f"slack: cannot read the history ({failure})") from error
        raise CannotTell(f"slack: more than {HISTORY_PAGE * HISTORY_PAGES} newer messages")

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
