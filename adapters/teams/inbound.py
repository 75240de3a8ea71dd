"""Inbound translation: a Teams message activity → neutral command text and an Actor."""

from __future__ import annotations

import html
import re
from typing import Any

from botbuilder.schema import Activity

from adapters.teams.conversations import (
    CHANNEL,
    PERSONAL,
    channel_of,
    conversation_type,
    tenant_of,
)
from bot.people.actor import Actor

# Markup Teams may wrap around a message (rich text); neutral `<@id>` mentions are kept.
_TAG = re.compile(r"</?(?:p|div|span|br|b|i|strong|em|u|s)\b[^<>]*>", re.IGNORECASE)


def _entities(activity: Activity) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for entity in activity.entities or []:
        data = entity.serialize() if hasattr(entity, "serialize") else dict(entity)
        extra = getattr(entity, "additional_properties", None) or {}
        found.append({**extra, **data})
    return found


def mentions(activity: Activity) -> list[tuple[str, str, str]]:
    """(text as written, user id, name) of every mention entity, in order."""
    found = []
    for entity in _entities(activity):
        if entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        if mentioned.get("id") and entity.get("text"):
            found.append((entity["text"], str(mentioned["id"]), str(mentioned.get("name") or "")))
    return found


def is_conversation(mentioned_id: str) -> bool:
    """A channel (or team) mentioned by name carries its conversation id, `19:…`; people are
    `29:…` and apps `28:…`."""
    return mentioned_id.startswith("19:")


def timezone_of(activity: Activity) -> str | None:
    if activity.local_timezone:
        return activity.local_timezone
    for entity in _entities(activity):
        if entity.get("type") == "clientInfo" and entity.get("timezone"):
            return str(entity["timezone"])
    return None


def neutral_text(activity: Activity) -> str:
    """The message text with the bot's own mention removed, people as `<@id>` and channels
    as `<#id>`."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for written, user_id, _name in mentions(activity):
        if user_id == bot_id:
            text = text.replace(written, " ", 1)
        elif is_conversation(user_id):
            text = text.replace(written, f"<#{user_id}>", 1)
        else:
            text = text.replace(written, f"<@{user_id}>", 1)
    text = html.unescape(_TAG.sub(" ", text)).replace("\u00a0", " ")
    text = re.sub(r"\s+", " ", text).strip()
    return text


def command_text(activity: Activity) -> str:
    """What to hand the grammar: the bare word `kudos` may come with or without a slash."""
    text = neutral_text(activity)
    return text or "help"


def actor_of(activity: Activity, *, origin_channel: str | None = None) -> Actor | None:
    """Who sent the activity. `origin_channel` overrides the channel (a card submitted in the
    1:1 chat for a command given in a channel still celebrates in that channel)."""
    sender = activity.from_property
    tenant = tenant_of(activity)
    if sender is None or not sender.id or not tenant:
        return None
    kind = conversation_type(activity)
    if kind == CHANNEL:
        channel = channel_of(activity)
    elif kind == PERSONAL:
        channel = None
    else:
        channel = activity.conversation.id if activity.conversation else None
    return Actor(
        platform="teams",
        workspace_id=tenant,
        user_id=sender.id,
        channel_id=origin_channel or channel,
        display_name=sender.name or "",
        timezone=timezone_of(activity),
    )
