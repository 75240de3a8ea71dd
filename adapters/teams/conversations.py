"""Conversation references: stored on every turn, loaded for proactive messages.

A reference is what `continue_conversation` needs to reach a conversation later: the
serviceUrl, the conversation id, the bot account and the tenant. Personal chats are kept per
tenant+user (scope "user"), channels and group chats per conversation (scope "channel").
"""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount, ConversationReference

from bot.people.directory import People
from bot.runtime.clock import Clock
from storage.db import Database
from storage.repositories import teams_refs

PERSONAL = "personal"
CHANNEL = "channel"
GROUP_CHAT = "groupChat"


def tenant_of(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (data.get("tenant") or {}).get("id")
    if tenant:
        return str(tenant)
    conversation = activity.conversation
    if conversation and conversation.tenant_id:
        return conversation.tenant_id
    # The Bot Framework Emulator has no tenants: its channel stands in for one.
    return activity.channel_id if activity.channel_id == "emulator" else None


def conversation_type(activity: Activity) -> str:
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation else None
    if kind:
        return kind
    return CHANNEL if channel_of(activity) else PERSONAL


def channel_of(activity: Activity) -> str | None:
    """The channel id (without the thread suffix) of a channel message, else None."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = (data.get("channel") or {}).get("id")
    if channel:
        return str(channel)
    conversation = activity.conversation
    if conversation and conversation.conversation_type == CHANNEL and conversation.id:
        return conversation.id.split(";", 1)[0]
    return None


def conversation_key(activity: Activity) -> tuple[str, str] | None:
    """(scope, key) under which this activity's conversation is stored."""
    kind = conversation_type(activity)
    if kind == PERSONAL:
        user = activity.from_property.id if activity.from_property else None
        return (teams_refs.USER, user) if user else None
    if kind == CHANNEL:
        channel = channel_of(activity)
        return (teams_refs.CHANNEL, channel) if channel else None
    conversation = activity.conversation
    return (teams_refs.CHANNEL, conversation.id) if conversation and conversation.id else None


def reference_for(activity: Activity) -> ConversationReference:
    """The activity's conversation reference; a channel's points at the channel, not the thread,
    so a proactive post starts a new thread there."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    channel = channel_of(activity)
    if channel and reference.conversation is not None:
        reference.conversation = ConversationAccount(
            id=channel,
            conversation_type=CHANNEL,
            tenant_id=tenant_of(activity),
            is_group=True,
        )
    elif reference.conversation is not None and not reference.conversation.tenant_id:
        reference.conversation.tenant_id = tenant_of(activity)
    return reference


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

    async def remember(self, activity: Activity) -> None:
        """Store the reference of the conversation this activity came from."""
        tenant = tenant_of(activity)
        where = conversation_key(activity)
        if not tenant or where is None or not activity.service_url:
            return
        await self.save(tenant, where[0], where[1], reference_for(activity))

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
