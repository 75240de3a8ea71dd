"""People and channel rosters of one tenant, read from the Bot Framework connector.

Teams ids are per bot: people are `29:…`, bots `28:…`. A person is looked up in a
conversation the bot shares with them (their 1:1 chat, else a channel it was added to); the
names in the current message's mention entities are the fallback.
"""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import ConversationReference

from adapters.teams.connection import TeamsConnection
from adapters.teams.connector import in_conversation
from bot.host import PersonInfo
from storage.repositories import teams_refs

log = logging.getLogger(__name__)

BOT_PREFIX = "28:"
# Channels to try when a person has no 1:1 chat with the bot yet.
CHANNELS_TO_TRY = 3
PAGE_SIZE = 500


class TeamsDirectory:
    def __init__(self, platform: TeamsConnection, tenant_id: str) -> None:
        self.platform = platform
        self.tenant_id = tenant_id

    async def person(self, user_id: str) -> PersonInfo | None:
        hinted = self.platform.names.get((self.tenant_id, user_id))
        if user_id.startswith(BOT_PREFIX):
            return PersonInfo(user_id=user_id, display_name=hinted or "That app", is_bot=True)
        member = await self.member(user_id)
        if member is not None:
            return member
        if hinted:
            return PersonInfo(user_id=user_id, display_name=hinted)
        return None

    async def member(self, member_id: str) -> PersonInfo | None:
        """`member_id` may be a `29:` id or an AAD object id (the people picker gives those)."""
        for reference in await self._shared_conversations(member_id):
            try:
                account = await in_conversation(
                    self.platform.adapter,
                    self.platform.app_id,
                    reference,
                    lambda context: TeamsInfo.get_member(context, member_id),
                )
            except Exception as error:  # not a member there, or the connector failed
                log.debug("member %s not found in a conversation: %r", member_id, error)
                continue
            if account is not None and account.id:
                self.platform.learn_names(self.tenant_id, [(account.id, account.name or "")])
                return PersonInfo(
                    user_id=account.id,
                    display_name=account.name or account.given_name or account.id,
                    is_bot=account.id.startswith(BOT_PREFIX),
                    email=account.email or account.user_principal_name or None,
                )
        return None

    async def _shared_conversations(self, user_id: str) -> list[ConversationReference]:
        refs = self.platform.refs
        found: list[ConversationReference] = []
        own = await refs.find(self.tenant_id, teams_refs.USER, user_id)
        if own is not None:
            found.append(own)
        found.extend(await refs.latest(self.tenant_id, teams_refs.CHANNEL, CHANNELS_TO_TRY))
        return found

    async def channel_members(self, channel_id: str) -> list[str]:
        """Every person in a channel or group chat, page by page (the paged API is the one
        Teams does not throttle to five calls a minute)."""
        return await self.roster(channel_id)

    async def roster(self, channel_id: str, limit: int | None = None) -> list[str]:
        """The people of a channel or group chat; stops reading pages once past `limit`."""
        reference = await self.platform.refs.find(self.tenant_id, teams_refs.CHANNEL, channel_id)
        if reference is None:
            return []

        async def read(context: TurnContext) -> list[str]:
            members: list[str] = []
            token: str | None = None
            while True:
                page = await TeamsInfo.get_paged_members(context, token, PAGE_SIZE)
                for account in page.members or []:
                    if account.id and not account.id.startswith(BOT_PREFIX):
                        self.platform.learn_names(
                            self.tenant_id, [(account.id, account.name or "")]
                        )
                        members.append(account.id)
                token = page.continuation_token
                if not token or (limit is not None and len(members) > limit):
                    return members

        return await in_conversation(self.platform.adapter, self.platform.app_id, reference, read)
