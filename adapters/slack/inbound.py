"""Inbound translation: each Slack payload → one value, read here and nowhere else.

Slash commands arrive as form fields, events inside the Events API envelope, interactions
(`block_actions`, `view_submission`) as a JSON `payload`; the workspace, the person and the
channel sit in different places in each. The listeners hand these values to the core and
answer through their `Where`; nothing past this module looks inside a payload.

The inbox stores the raw payload (rows in flight across an upgrade keep their format), so a
stored command or event is translated here again when a worker picks it up.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.request.internals import (
    extract_actor_enterprise_id,
    extract_actor_team_id,
    extract_enterprise_id,
    extract_is_enterprise_install,
)

from adapters.slack.blockkit import BUTTON_ACTION, SUBMIT_ACTION
from adapters.slack.forms import read_button, read_metadata, read_plain_button, read_values
from adapters.slack.text import neutral_text
from bot.people.actor import Actor


@dataclass(frozen=True)
class Where:
    """Where the user asked: what we can answer through."""

    team_id: str
    user_id: str
    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    enterprise_id: str = ""

    @property
    def scope(self) -> str:
        """The org (Grid) or the workspace: the key of the core's workspace record."""
        return self.enterprise_id or self.team_id


@dataclass(frozen=True)
class Place:
    """Where a payload comes from: the workspace (team) it was sent in and, under Enterprise
    Grid, the org. The org is read from the payload's enterprise id (never guessed from a
    user id's prefix: in a Grid org `U…` ids are org-wide too)."""

    team_id: str
    enterprise_id: str = ""

    @property
    def scope(self) -> str:
        return self.enterprise_id or self.team_id

    def actor(self, user_id: str, channel_id: str | None, **more: Any) -> Actor:
        return Actor(
            platform="slack",
            workspace_id=self.scope,
            user_id=user_id,
            channel_id=channel_id,
            team_id=self.team_id,
            enterprise_id=self.enterprise_id,
            **more,
        )

    def where(self, user_id: str, channel_id: str | None = None, **more: Any) -> Where:
        return Where(
            self.team_id, user_id, channel_id, enterprise_id=self.enterprise_id, **more
        )


def enterprise_of(body: dict[str, Any]) -> str:
    """The payload's enterprise id (Bolt's reading: `enterprise`, the authorization, then the
    envelope's `enterprise_id`), or "" outside Enterprise Grid."""
    return str(extract_enterprise_id(body) or body.get("enterprise_id") or "")


def place_of(body: dict[str, Any]) -> Place:
    enterprise = enterprise_of(body)
    team = team_of(body)
    if team == enterprise:  # an org-level payload naming no workspace
        team = ""
    return Place(team_id=team, enterprise_id=enterprise)


def from_other_org(body: dict[str, Any], place: Place) -> bool:
    """A Slack Connect event from a person of another organisation, as the payload tells it
    (Bolt's reading of `is_ext_shared_channel` events). Where the payload cannot tell, the
    directory does (adapters/slack/directory.py)."""
    if body.get("is_ext_shared_channel") is not True:
        return False
    actor_org = extract_actor_enterprise_id(body)
    if actor_org:
        return str(actor_org) != place.enterprise_id
    actor_team = extract_actor_team_id(body)
    if actor_team and not place.enterprise_id:
        return str(actor_team) != place.team_id
    return False


@dataclass(frozen=True)
class SlashCommand:
    actor: Actor
    text: str  # "/kudos …" in the core's neutral text
    dedupe_key: str | None  # None only without a trigger id (never seen)
    where: Where


@dataclass(frozen=True)
class Reaction:
    """An emoji added to or removed from a message."""

    actor: Actor  # who reacted, placed in the message's channel
    added: bool
    emoji: str  # without a skin tone
    on_message: bool  # reactions to files and file comments are not kudos
    author_id: str | None  # who wrote the message reacted to
    channel_id: str
    ts: str
    dedupe_key: str
    event_id: str | None

    @property
    def message_ref(self) -> str:
        return f"{self.channel_id}:{self.ts}"

    @property
    def where(self) -> Where:
        return _where_of(self.actor, self.channel_id)


@dataclass(frozen=True)
class DirectMessage:
    """What a person typed in their direct message with the bot: a command without a slash."""

    actor: Actor  # in no channel, like Teams' personal chat: a kudos given here is not posted
    text: str  # in the core's neutral text
    dedupe_key: str
    event_id: str | None

    @property
    def where(self) -> Where:
        # No channel: the answer is a message in the DM itself (an ephemeral one would vanish).
        return _where_of(self.actor, None)


def _where_of(actor: Actor, channel_id: str | None) -> Where:
    return Where(
        actor.team_id or actor.workspace_id,
        actor.user_id,
        channel_id=channel_id,
        enterprise_id=actor.enterprise_id,
    )


@dataclass(frozen=True)
class Uninstall:
    """The app was uninstalled or its tokens revoked."""

    team_id: str | None
    enterprise_id: str | None
    dedupe_key: str


@dataclass(frozen=True)
class FormSubmit:
    """A form sent back: a modal's submit, an inline form's submit button, or a plain button
    (whose action names the form and whose value is its one input)."""

    actor: Actor
    form_id: str
    values: dict[str, object]
    context: dict[str, str]
    dedupe_key: str
    where: Where
    # A modal's input blocks: Slack shows field errors under these.
    input_blocks: tuple[str, ...] = field(default=())


# -- slash commands ----------------------------------------------------------------------------


def read_command(body: dict[str, Any]) -> SlashCommand:
    place = place_of(body)
    actor = place.actor(
        body["user_id"],
        body.get("channel_id") or None,
        display_name=body.get("user_name", ""),
        # An org's records are named after the org, not after one of its workspaces.
        workspace_name=body.get("enterprise_name", "")
        if place.enterprise_id
        else body.get("team_domain", ""),
    )
    return SlashCommand(
        actor=actor,
        text=f"{body.get('command', '')} {neutral_text(body.get('text') or '')}".strip(),
        dedupe_key=command_key(body),
        where=place.where(
            actor.user_id,
            actor.channel_id,
            response_url=body.get("response_url"),
            trigger_id=body.get("trigger_id"),
        ),
    )


def command_key(body: dict[str, Any]) -> str | None:
    """A slash command's trigger id: unique per invocation, the same if it is delivered again."""
    trigger = body.get("trigger_id")
    return f"slack:command:{team_of(body)}:{trigger}" if trigger else None


# -- events ------------------------------------------------------------------------------------


def read_reaction(body: dict[str, Any]) -> Reaction | None:
    """A `reaction_added` / `reaction_removed` event; None when it names no person or message."""
    event = body.get("event") or {}
    item = event.get("item") or {}
    user, channel, ts = event.get("user"), item.get("channel"), item.get("ts")
    if not (user and channel and ts):
        return None
    place = place_of(body)
    return Reaction(
        actor=place.actor(user, channel, is_external=from_other_org(body, place)),
        added=event.get("type") == "reaction_added",
        emoji=str(event.get("reaction", "")).split("::")[0],  # drop ::skin-tone-N
        on_message=item.get("type") == "message",
        author_id=event.get("item_user") or None,
        channel_id=channel,
        ts=ts,
        dedupe_key=event_key(body),
        event_id=body.get("event_id"),
    )


def read_direct_message(body: dict[str, Any], bot_user_id: str | None) -> DirectMessage | None:
    """A `message.im` event typed by a person; None for the bot's own messages, edits,
    deletions and every other subtype (joins, files, bot messages), and for other channels."""
    event = body.get("event") or {}
    user, text = event.get("user"), event.get("text")
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return None
    if not user or not text or user == bot_user_id:
        return None
    return DirectMessage(
        actor=place_of(body).actor(user, None),
        text=neutral_text(text),
        dedupe_key=event_key(body),
        event_id=body.get("event_id"),
    )


@dataclass(frozen=True)
class RateLimitNotice:
    """`app_rate_limited`: Slack holds back this workspace's events for the rest of a minute."""

    team_id: str
    minute_started: int  # Unix time of the minute whose events are held back

    @property
    def dedupe_key(self) -> str:
        return f"slack:rate_limited:{self.team_id}:{self.minute_started}"


def read_rate_limit(body: dict[str, Any]) -> RateLimitNotice | None:
    if body.get("type") != "app_rate_limited":
        return None
    return RateLimitNotice(
        team_id=str(body.get("team_id") or ""),
        minute_started=int(body.get("minute_rate_limited") or 0),
    )


def read_uninstall(body: dict[str, Any]) -> Uninstall:
    # An org-wide install is kept under its org alone, whichever workspace the event names.
    org_wide = bool(extract_is_enterprise_install(body))
    return Uninstall(
        team_id=None if org_wide else body.get("team_id"),
        enterprise_id=enterprise_of(body) or None,
        dedupe_key=event_key(body),
    )


def event_key(body: dict[str, Any]) -> str:
    """Slack's event id: the same on every redelivery of one event."""
    return f"slack:event:{body.get('event_id') or uuid.uuid4().hex}"


# -- interactions ------------------------------------------------------------------------------


def read_view_submission(body: dict[str, Any]) -> FormSubmit | None:
    """A modal's submit; None when the modal is not one of our forms."""
    view = body["view"]
    submission = read_metadata(view.get("private_metadata", ""))
    if submission is None:
        return None
    actor = _actor(body, submission.channel_id)
    return FormSubmit(
        actor=actor,
        form_id=submission.form_id,
        values=read_values(view.get("state", {}).get("values", {})),
        context=submission.context,
        # A double submit repeats the view's id and hash.
        dedupe_key=f"slack:view:{view.get('id')}:{view.get('hash')}",
        where=_where_of(actor, actor.channel_id),
        input_blocks=tuple(
            block["block_id"] for block in view.get("blocks", []) if block.get("type") == "input"
        ),
    )


def read_action(body: dict[str, Any]) -> FormSubmit | None:
    """A `block_actions` click on an inline form's submit or on a plain button; None for
    anything else."""
    action = body["actions"][0]
    action_id = str(action.get("action_id", ""))
    value = action.get("value", "")
    if action_id.startswith(f"{BUTTON_ACTION}:"):
        pressed = read_plain_button(value)
        if pressed is None:
            return None
        form_id, values, context = pressed[0], {"value": pressed[1]}, {}
    elif action_id == SUBMIT_ACTION:
        submission = read_button(value)
        if submission is None:
            return None
        form_id, context = submission.form_id, submission.context
        # A form in a view (the Home tab) keeps its state in the view, not at the top.
        state = body.get("state") or (body.get("view") or {}).get("state") or {}
        values = read_values(state.get("values", {}))
    else:
        return None
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    actor = _actor(body, channel)
    return FormSubmit(
        actor=actor,
        form_id=form_id,
        values=values,
        context=context,
        # Slack may deliver one click twice: the same person and action time.
        dedupe_key=f"slack:action:{actor.user_id}:{action.get('action_ts')}",
        where=Where(
            team_id=actor.team_id or actor.workspace_id,
            user_id=actor.user_id,
            channel_id=channel,
            response_url=body.get("response_url"),
            enterprise_id=actor.enterprise_id,
            # A plain button may answer with a form (a home's "Give kudos", "Answer"): that
            # opens as a modal. An inline form's own submit never opens one.
            trigger_id=body.get("trigger_id") if action_id.startswith(BUTTON_ACTION) else None,
        ),
    )


def _actor(body: dict[str, Any], channel_id: str | None) -> Actor:
    user = body["user"]
    return place_of(body).actor(
        user["id"], channel_id, display_name=user.get("username") or user.get("name") or ""
    )


def team_of(body: dict[str, Any]) -> str:
    """The workspace a payload belongs to (commands, events and interactions differ)."""
    team = body.get("team")
    if isinstance(team, dict) and team.get("id"):
        return str(team["id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("team_id"):
        return str(user["team_id"])
    return str(body.get("team_id") or body.get("enterprise_id") or "")


def read_home_opened(body: dict[str, Any]) -> Actor | None:
    """The person who opened the app's Home tab; None for its Messages tab or the About tab."""
    event = body.get("event") or {}
    if event.get("tab") != "home" or not event.get("user"):
        return None
    return Actor(platform="slack", workspace_id=team_of(body), user_id=str(event["user"]))
