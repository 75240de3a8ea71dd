"""People and channel members of one Slack workspace (users.info, conversations.members)."""

from __future__ import annotations

import time

from slack_sdk.errors import SlackApiError

from adapters.slack.clients import SlackClients
from adapters.slack.errors import delivery_error, error_code
from bot.host import PersonInfo

# users.info is Tier 4; the core keeps people for a day, this only absorbs bursts.
CACHE_SECONDS = 300.0
MEMBERS_PAGE = 200


class SlackDirectory:
    def __init__(self, clients: SlackClients, team_id: str) -> None:
        self.clients = clients
        self.team_id = team_id
        self._people: dict[str, tuple[float, PersonInfo | None]] = {}

    async def person(self, user_id: str) -> PersonInfo | None:
        cached = self._people.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        client = await self.clients.for_workspace(self.team_id)
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as error:
            if error_code(error) in {"user_not_found", "users_not_found"}:
                self._people[user_id] = (time.monotonic(), None)
                return None
            raise delivery_error(error) from error
        info = person_info(response.get("user") or {})
        self._people[user_id] = (time.monotonic(), info)
        return info

    async def channel_members(self, channel_id: str) -> list[str]:
        client = await self.clients.for_workspace(self.team_id)
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
                return members


def person_info(user: dict) -> PersonInfo:
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
    )
