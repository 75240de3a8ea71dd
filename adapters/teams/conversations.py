"""Conversation references: stored on every turn, loaded for proactive messages.

A reference is what `continue_conversation` needs to reach a conversation later: the
serviceUrl, the conversation id, the bot account and the tenant. Personal chats are kept per
tenant+user (scope "user"), channels and group chats per conversation (scope "channel").
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import ChannelAccount, ConversationAccount, ConversationReference

from adapters.teams.inbound import CHANNEL, PERSONAL, Conversation
from bot.people.directory import People
from bot.runtime.clock import Clock
from storage.db import Database
from storage.repositories import teams_refs


def to_json(reference: ConversationReference) -> dict[str, Any]:
    return dict(reference.serialize())


def from_json(data: dict[str, Any]) -> ConversationReference:
    return ConversationReference().deserialize(data)


def personal_reference(
    template: ConversationReference, conversation_id: str, user_id: str, tenant_id: str
) -> ConversationReference:
    """A 1:1 reference for a conversation we created, modelled on another of the tenant."""
    return ConversationReference(
        activity_id=None,
        user=ChannelAccount(id=user_id),
        bot=template.bot,
        conversation=ConversationAccount(
            id=conversation_id, conversation_type=PERSONAL, tenant_id=tenant_id, is_group=False
        ),
        channel_id=template.channel_id or "msteams",
        service_url=template.service_url,
    )


def storage_key(conversation: Conversation) -> tuple[str, str] | None:
    """(scope, key) under which a conversation's reference is stored."""
    if conversation.kind == PERSONAL:
        sender = conversation.sender_id
        return (teams_refs.USER, sender) if sender else None
    if conversation.kind == CHANNEL:
        channel = conversation.channel_id
        return (teams_refs.CHANNEL, channel) if channel else None
    place = conversation.conversation_id
    return (teams_refs.CHANNEL, place) if place else None


class ConversationRefs:
    """Store and load references; the workspace is the Teams tenant."""

    def __init__(self, db: Database, people: People, clock: Clock) -> None:
        self.db = db
        self.people = people
        self.clock = clock
        # Last reference written per key: repeated messages in one chat write nothing new.
        self._written: dict[tuple[str, str, str], dict[str, Any]] = {}

    async def _workspace_id(self, tenant_id: str) -> int:
        workspace = await self.people.workspace("teams", tenant_id)
        assert workspace.id is not None
        return workspace.id

    async def remember(self, conversation: Conversation) -> None:
        """Store the reference of the conversation an activity came from."""
        where = storage_key(conversation)
        if not conversation.tenant_id or where is None or conversation.reference is None:
            return
        await self.save(conversation.tenant_id, where[0], where[1], conversation.reference)

    async def save(
        self, tenant_id: str, scope: str, key: str, reference: ConversationReference
    ) -> None:
        data = to_json(reference)
        if self._written.get((tenant_id, scope, key)) == data:
            return
        workspace_id = await self._workspace_id(tenant_id)
        async with self.db.write() as session:
            await teams_refs.save(session, workspace_id, scope, key, data, self.clock.now())
        self._written[(tenant_id, scope, key)] = data

    async def find(self, tenant_id: str, scope: str, key: str) -> ConversationReference | None:
        workspace_id = await self._workspace_id(tenant_id)
        async with self.db.read() as session:
            data = await teams_refs.find(session, workspace_id, scope, key)
        return from_json(data) if data else None

    async def latest(
        self, tenant_id: str, scope: str | None = None, limit: int = 1
    ) -> list[ConversationReference]:
        workspace_id = await self._workspace_id(tenant_id)
        async with self.db.read() as session:
            found = await teams_refs.latest(session, workspace_id, scope, limit)
        return [from_json(data) for data in found]
