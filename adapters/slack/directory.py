"""People and channel members of one Slack workspace or Grid org (users.info,
conversations.members)."""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.clients import SlackClients
from adapters.slack.errors import delivery_error, error_code
from bot.host import PersonInfo, RateLimited

log = logging.getLogger(__name__)

# users.info is Tier 4; the core keeps people for a day, this only absorbs bursts.
CACHE_SECONDS = 300.0
MEMBERS_PAGE = 200


class SlackDirectory:
    def __init__(self, clients: SlackClients, scope: str) -> None:
        self.clients = clients
        self.scope = scope  # the Grid org id, else the team id
        self._people: dict[str, tuple[float, PersonInfo | None]] = {}
        self._shared: dict[str, tuple[float, bool]] = {}

    async def person(self, user_id: str) -> PersonInfo | None:
        cached = self._people.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        tokens = await self.clients.tokens(self.scope)
        for attempt, token in enumerate(tokens, start=1):
            try:
                response = await self.clients.for_token(token).users_info(user=user_id)
                break
            except SlackApiError as error:
                if error_code(error) not in {"user_not_found", "users_not_found"}:
                    raise delivery_error(error) from error
                if attempt == len(tokens):
                    self._people[user_id] = (time.monotonic(), None)
                    return None
                # Per-workspace installs inside a Grid org: another install may see them.
        info = person_info(response.get("user") or {}, self.scope)
        self._people[user_id] = (time.monotonic(), info)
        return info

    async def channel_members(self, channel_id: str) -> list[str]:
        """The channel's members of this workspace (or Grid org): in a channel shared with
        another organisation (Slack Connect), its guests are left out, looked up one by one
        (only there: other channels cost no look-up per member)."""
        client = await self.clients.for_workspace(self.scope)
        members: list[str] = []
        cursor: str | None = None
        while True:
            try:
                response = await client.conversations_members(
                    channel=channel_id, limit=MEMBERS_PAGE, cursor=cursor
                )
            except SlackApiError as error:
                raise delivery_error(error) from error
            members.extend(response.get("members") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        if not await self._shared_with_other_orgs(client, channel_id):
            return members
        kept = []
        for member in members:
            info = await self.person(member)
            if info is None or not info.is_external:
                kept.append(member)
        return kept

    async def _shared_with_other_orgs(self, client: AsyncWebClient, channel_id: str) -> bool:
        cached = self._shared.get(channel_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = await client.conversations_info(channel=channel_id)
        except SlackApiError as error:
            failure = delivery_error(error)
            if isinstance(failure, RateLimited):
                raise failure from error
            # Members were listed, so the channel is readable; treat it as not shared.
            log.warning("slack: conversations.info %s failed (%s)", channel_id, failure)
            return False
        channel = response.get("channel") or {}
        shared = bool(channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"))
        self._shared[channel_id] = (time.monotonic(), shared)
        return shared


def person_info(user: dict, scope: str = "") -> PersonInfo:
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
        or user.get("id", "")
    )
    return PersonInfo(
        user_id=user.get("id", ""),
        display_name=name,
        timezone=user.get("tz") or None,
        is_bot=bool(user.get("is_bot")) or user.get("id") == "USLACKBOT",
        is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
        is_external=bool(scope) and _of_another_org(user, scope),
        # Present only with the users:read.email scope.
        email=profile.get("email") or None,
    )


def _of_another_org(user: dict, scope: str) -> bool:
    """Slack Connect: the person belongs to neither this workspace nor this Grid org.

    A Grid user carries `enterprise_user` (their org and its workspaces); anyone else carries
    their own `team_id`. Slack marks people it cannot describe further `is_stranger`."""
    if user.get("is_stranger"):
        return True
    grid = user.get("enterprise_user") or {}
    homes = {user.get("team_id") or "", grid.get("enterprise_id") or "", *(grid.get("teams") or [])}
    homes.discard("")
    return bool(homes) and scope not in homes
