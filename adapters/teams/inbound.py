"""Inbound translation: one Teams activity → one `Inbound` value, read here and nowhere else.

The handler, the conversation store and the reply all work from that value: who sent it
(an `Actor`), what was asked (command text or a card submission), where it came from (tenant,
conversation kind, channel, a reference to reach it again), and the key that recognises a
redelivery. Nothing past this module looks at `activity.*` or `channelData`.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationAccount, ConversationReference

from adapters.teams.cards import Submission, read_submission
from bot.people.actor import Actor

# Conversation kinds, as Teams names them in `conversation.conversationType`.
PERSONAL = "personal"
CHANNEL = "channel"
GROUP_CHAT = "groupChat"

# Markup Teams may wrap around a message (rich text); neutral `<@id>` mentions are kept.
_TAG = re.compile(r"</?(?:p|div|span|br|b|i|strong|em|u|s)\b[^<>]*>", re.IGNORECASE)


@dataclass(frozen=True)
class Conversation:
    """The conversation an activity came from, and how to reach it again later."""

    tenant_id: str | None
    kind: str  # PERSONAL, CHANNEL or GROUP_CHAT
    conversation_id: str | None  # as Teams sent it (a channel's carries the thread suffix)
    channel_id: str | None  # a channel message's channel, without the thread suffix
    sender_id: str | None  # whose 1:1 chat it is, when it is one
    # None without a serviceUrl: such a conversation cannot be reached proactively.
    reference: ConversationReference | None = None

    @property
    def is_personal(self) -> bool:
        return self.kind == PERSONAL

    @property
    def place(self) -> str | None:
        """Where the core sees the message: the channel, the group chat, or None for a 1:1."""
        if self.kind == CHANNEL:
            return self.channel_id
        if self.kind == PERSONAL:
            return None
        return self.conversation_id


@dataclass(frozen=True)
class Inbound:
    """One activity, translated once."""

    activity_id: str | None
    activity_type: str | None
    conversation: Conversation
    actor: Actor | None  # None: no sender or no tenant, so there is nobody to act for
    text: str | None = None  # a typed command, bot mention stripped, neutral mentions
    submission: Submission | None = None  # a card submit (its people still to translate)
    dedupe_key: str | None = None  # the same on every redelivery of this activity
    mentioned: tuple[tuple[str, str], ...] = ()  # (id, name) of people and apps mentioned

    @property
    def reply_key(self) -> str:
        """The outbox key of an answer to this activity sent proactively."""
        return f"reply:{self.activity_id}"


def read(activity: Activity) -> Inbound:
    """Translate an activity of any type; only messages carry text or a submission."""
    conversation = conversation_of(activity)
    text: str | None = None
    submission: Submission | None = None
    if activity.type == ActivityTypes.message:
        if activity.value is not None:
            # A card submit; one that is not ours stays unread (neither text nor submission).
            submission = read_submission(activity.value)
        else:
            text = command_text(activity)
    elif is_card_action(activity):
        submission = read_submission(_execute_data(activity.value))
    origin = submission.origin if submission is not None else None
    return Inbound(
        activity_id=activity.id,
        activity_type=activity.type,
        conversation=conversation,
        actor=_actor(activity, conversation, origin),
        text=text,
        submission=submission,
        dedupe_key=event_key(activity),
        mentioned=tuple(
            (user_id, name)
            for _written, user_id, name in mentions(activity)
            if not is_conversation(user_id)
        ),
    )


# Universal Actions: an Action.Execute press is an invoke of this name.
CARD_ACTION = "adaptiveCard/action"


def is_card_action(activity: Activity) -> bool:
    return activity.type == ActivityTypes.invoke and activity.name == CARD_ACTION


def _execute_data(value: object) -> object:
    """The pressed Action.Execute's `data` (inputs merged in), from the invoke's value."""
    action = value.get("action") if isinstance(value, dict) else None
    return action.get("data") if isinstance(action, dict) else None


# -- where it came from ------------------------------------------------------------------------


def conversation_of(activity: Activity) -> Conversation:
    tenant = _tenant(activity)
    channel = _channel(activity)
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation else None
    if not kind:
        kind = CHANNEL if channel else PERSONAL
    sender = activity.from_property.id if activity.from_property else None
    return Conversation(
        tenant_id=tenant,
        kind=kind,
        conversation_id=conversation.id if conversation else None,
        channel_id=channel,
        sender_id=sender or None,
        reference=_reference(activity, tenant, channel) if activity.service_url else None,
    )


def _tenant(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (data.get("tenant") or {}).get("id")
    if tenant:
        return str(tenant)
    conversation = activity.conversation
    if conversation and conversation.tenant_id:
        return conversation.tenant_id
    # The Bot Framework Emulator has no tenants: its channel stands in for one.
    return activity.channel_id if activity.channel_id == "emulator" else None


def _channel(activity: Activity) -> str | None:
    """The channel id (without the thread suffix) of a channel message, else None."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    channel = (data.get("channel") or {}).get("id")
    if channel:
        return str(channel)
    conversation = activity.conversation
    if conversation and conversation.conversation_type == CHANNEL and conversation.id:
        return conversation.id.split(";", 1)[0]
    return None


def _reference(
    activity: Activity, tenant: str | None, channel: str | None
) -> ConversationReference:
    """The activity's conversation reference; a channel's points at the channel, not the thread,
    so a proactive post starts a new thread there."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    if channel and reference.conversation is not None:
        reference.conversation = ConversationAccount(
            id=channel, conversation_type=CHANNEL, tenant_id=tenant, is_group=True
        )
    elif reference.conversation is not None and not reference.conversation.tenant_id:
        reference.conversation.tenant_id = tenant
    return reference


def event_key(activity: Activity) -> str | None:
    """A stable key for one incoming activity. Teams message ids are only unique within a
    conversation, so the conversation is part of it (hashed to fit the key columns)."""
    if not activity.id:
        return None
    conversation = activity.conversation.id if activity.conversation else ""
    digest = hashlib.sha256(f"{conversation}|{activity.id}".encode()).hexdigest()[:40]
    return f"teams:{digest}"


# -- who sent it -------------------------------------------------------------------------------


def actor_of(activity: Activity, *, origin_channel: str | None = None) -> Actor | None:
    """Who sent the activity. `origin_channel` overrides the channel (a card submitted in the
    1:1 chat for a command given in a channel still celebrates in that channel)."""
    return _actor(activity, conversation_of(activity), origin_channel)


def _actor(
    activity: Activity, conversation: Conversation, origin_channel: str | None
) -> Actor | None:
    sender = activity.from_property
    if sender is None or not sender.id or not conversation.tenant_id:
        return None
    return Actor(
        platform="teams",
        workspace_id=conversation.tenant_id,
        user_id=sender.id,
        channel_id=origin_channel or conversation.place,
        display_name=sender.name or "",
        timezone=timezone_of(activity),
    )


def timezone_of(activity: Activity) -> str | None:
    if activity.local_timezone:
        return activity.local_timezone
    for entity in _entities(activity):
        if entity.get("type") == "clientInfo" and entity.get("timezone"):
            return str(entity["timezone"])
    return None


# -- what was said -----------------------------------------------------------------------------


def _entities(activity: Activity) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for entity in activity.entities or []:
        data = entity.serialize() if hasattr(entity, "serialize") else dict(entity)
        extra = getattr(entity, "additional_properties", None) or {}
        found.append({**extra, **data})
    return found


def mentions(activity: Activity) -> list[tuple[str, str, str]]:
    """(text as written, user id, name) of every mention entity, in order. The text may be
    "" (an entity without one, reported for names containing `&`)."""
    found = []
    for entity in _entities(activity):
        if entity.get("type") != "mention":
            continue
        mentioned = entity.get("mentioned") or {}
        if mentioned.get("id"):
            found.append(
                (
                    str(entity.get("text") or ""),
                    str(mentioned["id"]),
                    str(mentioned.get("name") or ""),
                )
            )
    return found


def is_conversation(mentioned_id: str) -> bool:
    """A channel (or team) mentioned by name carries its conversation id, `19:…`; people are
    `29:…` and apps `28:…`."""
    return mentioned_id.startswith("19:")


def neutral_text(activity: Activity) -> str:
    """The message text with the bot's own mention removed, people as `<@id>` and channels
    as `<#id>`."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for written, user_id, name in mentions(activity):
        if user_id == bot_id:
            text = _without_bot_mention(text, written, name)
        elif not written:
            continue  # nothing to find it by: the name stays as typed
        elif is_conversation(user_id):
            text = text.replace(written, f"<#{user_id}>", 1)
        else:
            text = text.replace(written, f"<@{user_id}>", 1)
    text = html.unescape(_TAG.sub(" ", text)).replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).strip()


_AT = re.compile(r"<at>(.*?)</at>", re.IGNORECASE | re.DOTALL)


def _without_bot_mention(text: str, written: str, name: str) -> str:
    """Removes the bot's own mention, found by the entity's `mentioned.id`: by its text where
    that is in the message, else the `<at>` element naming the bot (compared unescaped, so
    "Kudos &amp; Pulse" is "Kudos & Pulse"), else an `<at>` element opening the message."""
    if written and written in text:
        return text.replace(written, " ", 1)
    elements = list(_AT.finditer(text))
    wanted = html.unescape(name).strip().lower()
    chosen = next(
        (found for found in elements if html.unescape(found.group(1)).strip().lower() == wanted),
        None,
    )
    if chosen is None and elements and not _TAG.sub("", text[: elements[0].start()]).strip():
        chosen = elements[0]
    if chosen is None:
        return text
    return text[: chosen.start()] + " " + text[chosen.end() :]


def command_text(activity: Activity) -> str:
    """What to hand the grammar: the bare word `kudos` may come with or without a slash."""
    return neutral_text(activity) or "help"
