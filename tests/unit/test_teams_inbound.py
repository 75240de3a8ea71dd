"""A Teams activity is read once, at the door, into one `Inbound` value.

The payloads follow the shapes Microsoft documents for bots in Teams (conversation basics,
channel and group chat messages, Action.Submit from an Adaptive Card): tenant in
`channelData.tenant`, a channel message's conversation id carrying `;messageid=…`, mention
entities next to `<at>…</at>` text, the client's time zone in a `clientInfo` entity.
"""

from __future__ import annotations

import re
from typing import Any

from botbuilder.schema import Activity

from adapters.teams import cards
from adapters.teams.conversations import storage_key
from adapters.teams.inbound import CHANNEL, GROUP_CHAT, PERSONAL, read
from storage.repositories import teams_refs

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"
BOT = {"id": "28:c9e8c047-2a74-40a2-b28a-b162d5f5327c", "name": "Kudos"}
ALICE = {"id": "29:1alice", "name": "Alice Adams", "aadObjectId": "6f3c0a0e-alice"}
CHANNEL_ID = "19:2f6ab4cf5fc44b1f8a5d4e3c1b2a0f9e@thread.tacv2"
TEAM_ID = "19:0d4d4e1f8c2b4b4f9a9c6e1f5d3e2a1b@thread.tacv2"
GROUP_ID = "19:meeting_NzY4ZmQ1YjEtYWM0ZC00@thread.v2"
CLIENT_INFO = {
    "type": "clientInfo",
    "locale": "en-US",
    "country": "US",
    "platform": "Web",
    "timezone": "America/Los_Angeles",
}


def bot_mention() -> dict[str, Any]:
    return {"type": "mention", "text": "<at>Kudos</at>", "mentioned": BOT}


def channel_message(text: str, entities: list[dict[str, Any]], **extra: Any) -> Activity:
    return Activity().deserialize(
        {
            "type": "message",
            "id": "1485983408511",
            "timestamp": "2026-11-16T10:00:00.000Z",
            "localTimestamp": "2026-11-16T02:00:00.000-08:00",
            "serviceUrl": SERVICE_URL,
            "channelId": "msteams",
            "from": ALICE,
            "conversation": {
                "isGroup": True,
                "conversationType": "channel",
                "tenantId": TENANT,
                "id": f"{CHANNEL_ID};messageid=1485983408511",
            },
            "recipient": BOT,
            "textFormat": "plain",
            "text": text,
            "entities": entities,
            "channelData": {
                "teamsChannelId": CHANNEL_ID,
                "teamsTeamId": TEAM_ID,
                "channel": {"id": CHANNEL_ID},
                "team": {"id": TEAM_ID},
                "tenant": {"id": TENANT},
            },
            "locale": "en-US",
            **extra,
        }
    )


def personal_message(**fields: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "f:7c4b2e6a",
        "serviceUrl": SERVICE_URL,
        "channelId": "msteams",
        "from": ALICE,
        "conversation": {
            "conversationType": "personal",
            "tenantId": TENANT,
            "id": "a:1Lv9ZkVb3uIqM0f-personal-alice",
        },
        "recipient": BOT,
        "text": "kudos stats",
        "entities": [CLIENT_INFO],
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-US",
        **fields,
    }


def test_a_channel_message_names_tenant_sender_channel_and_the_command() -> None:
    activity = channel_message(
        "<at>Kudos</at> kudos <at>Bob Brown</at> for the launch in <at>Design</at> #easy",
        [
            bot_mention(),
            {
                "type": "mention",
                "text": "<at>Bob Brown</at>",
                "mentioned": {"id": "29:1bob", "name": "Bob Brown"},
            },
            {
                "type": "mention",
                "text": "<at>Design</at>",
                "mentioned": {"id": CHANNEL_ID, "name": "Design", "conversationType": "channel"},
            },
            CLIENT_INFO,
        ],
    )

    inbound = read(activity)

    assert inbound.text == f"kudos <@29:1bob> for the launch in <#{CHANNEL_ID}> #easy"
    assert inbound.submission is None
    conversation = inbound.conversation
    assert (conversation.tenant_id, conversation.kind, conversation.channel_id) == (
        TENANT,
        CHANNEL,
        CHANNEL_ID,
    )
    assert conversation.conversation_id == f"{CHANNEL_ID};messageid=1485983408511"
    assert not conversation.is_personal
    actor = inbound.actor
    assert actor is not None
    assert (actor.platform, actor.workspace_id, actor.user_id, actor.channel_id) == (
        "teams",
        TENANT,
        "29:1alice",
        CHANNEL_ID,
    )
    assert (actor.display_name, actor.timezone) == ("Alice Adams", "America/Los_Angeles")
    # People and apps mentioned, for their names; the channel mention is not a person.
    assert inbound.mentioned == ((BOT["id"], "Kudos"), ("29:1bob", "Bob Brown"))
    assert inbound.activity_type == "message" and inbound.reply_key == "reply:1485983408511"


def test_a_channel_reference_points_at_the_channel_not_the_thread() -> None:
    inbound = read(channel_message("<at>Kudos</at> help", [bot_mention()]))

    reference = inbound.conversation.reference
    assert reference is not None and reference.conversation is not None
    assert reference.conversation.id == CHANNEL_ID
    assert reference.conversation.tenant_id == TENANT
    assert reference.activity_id is None
    assert reference.service_url == SERVICE_URL
    assert reference.bot is not None and reference.bot.id == BOT["id"]
    assert storage_key(inbound.conversation) == (teams_refs.CHANNEL, CHANNEL_ID)


def test_rich_text_markup_and_entities_are_undone_and_a_bare_mention_means_help() -> None:
    rich = channel_message(
        "<p><at>Kudos</at>&nbsp;kudos <at>Bob</at> for <b>fish &amp; chips</b></p>",
        [bot_mention(), {"type": "mention", "text": "<at>Bob</at>", "mentioned": {"id": "29:b"}}],
        textFormat="xml",
    )
    bare = channel_message("<at>Kudos</at>", [bot_mention()])

    assert read(rich).text == "kudos <@29:b> for fish & chips"
    assert read(bare).text == "help"


def test_a_personal_chat_has_no_channel_and_is_stored_per_person() -> None:
    inbound = read(Activity().deserialize(personal_message(localTimezone="Europe/Lisbon")))

    assert inbound.text == "kudos stats"
    assert inbound.conversation.kind == PERSONAL and inbound.conversation.is_personal
    assert inbound.actor is not None and inbound.actor.channel_id is None
    # The activity's own zone wins over the client's.
    assert inbound.actor.timezone == "Europe/Lisbon"
    assert storage_key(inbound.conversation) == (teams_refs.USER, "29:1alice")


def test_the_tenant_comes_from_channel_data_when_the_conversation_lacks_it() -> None:
    payload = personal_message()
    payload["conversation"] = {"conversationType": "personal", "id": "a:1Lv9-no-tenant"}

    inbound = read(Activity().deserialize(payload))

    assert inbound.conversation.tenant_id == TENANT
    reference = inbound.conversation.reference
    assert reference is not None and reference.conversation is not None
    assert reference.conversation.tenant_id == TENANT


def test_a_group_chat_is_its_own_place() -> None:
    payload = personal_message(
        text="<at>Kudos</at> kudos stats",
        entities=[bot_mention()],
        conversation={
            "isGroup": True,
            "conversationType": "groupChat",
            "tenantId": TENANT,
            "id": GROUP_ID,
        },
    )

    inbound = read(Activity().deserialize(payload))

    assert inbound.conversation.kind == GROUP_CHAT
    assert inbound.actor is not None and inbound.actor.channel_id == GROUP_ID
    assert inbound.actor.timezone is None
    assert storage_key(inbound.conversation) == (teams_refs.CHANNEL, GROUP_ID)


def test_a_card_submit_gives_typed_values_and_the_channel_it_was_asked_for_in() -> None:
    # Action.Submit merges the card's inputs into its `data`; the picker gives AAD object ids.
    value = {
        cards.FORM_KEY: "kudos",
        cards.CONTEXT_KEY: {"round": "42"},
        cards.KINDS_KEY: {"recipients": cards.PEOPLE, "easy": cards.RATING, "reason": cards.TEXT},
        cards.ORIGIN_KEY: CHANNEL_ID,
        "recipients": "29:1bob,0b7d5f3e-aad-carol",
        "easy": "4",
        "reason": "for the launch",
    }
    payload = personal_message(value=value, replyToId="1700000000000")
    del payload["text"]

    inbound = read(Activity().deserialize(payload))

    assert inbound.text is None
    submission = inbound.submission
    assert submission is not None
    assert (submission.form_id, submission.context) == ("kudos", {"round": "42"})
    assert submission.values == {
        "recipients": ["29:1bob", "0b7d5f3e-aad-carol"],
        "easy": 4,
        "reason": "for the launch",
    }
    assert submission.people == {"recipients": ["29:1bob", "0b7d5f3e-aad-carol"]}
    # Submitted in the 1:1 chat, but asked for in the channel: it celebrates there.
    assert inbound.actor is not None and inbound.actor.channel_id == CHANNEL_ID
    assert inbound.conversation.is_personal


def test_a_submit_from_another_card_is_neither_text_nor_a_submission() -> None:
    payload = personal_message(value={"action": "somebody-elses-card"})
    del payload["text"]

    inbound = read(Activity().deserialize(payload))

    assert inbound.text is None and inbound.submission is None


def test_the_dedupe_key_is_the_same_on_redelivery_and_apart_per_conversation() -> None:
    first = read(Activity().deserialize(personal_message()))
    again = read(Activity().deserialize(personal_message()))
    elsewhere = personal_message()
    elsewhere["conversation"] = {**elsewhere["conversation"], "id": "a:1Lv9-another-chat"}
    without_id = personal_message()
    del without_id["id"]

    assert first.dedupe_key is not None and re.fullmatch(r"teams:[0-9a-f]{40}", first.dedupe_key)
    assert again.dedupe_key == first.dedupe_key
    assert read(Activity().deserialize(elsewhere)).dedupe_key != first.dedupe_key
    assert read(Activity().deserialize(without_id)).dedupe_key is None


def test_a_conversation_update_carries_where_but_no_request() -> None:
    # The bot added to a team: Teams sends membersAdded in the General channel.
    activity = Activity().deserialize(
        {
            "type": "conversationUpdate",
            "id": "f:2c6b7e9d",
            "serviceUrl": SERVICE_URL,
            "channelId": "msteams",
            "from": {"id": "29:1alice", "aadObjectId": "6f3c0a0e-alice"},
            "conversation": {
                "isGroup": True,
                "conversationType": "channel",
                "tenantId": TENANT,
                "id": TEAM_ID,
            },
            "recipient": BOT,
            "membersAdded": [BOT],
            "channelData": {
                "team": {"id": TEAM_ID, "name": "Support"},
                "eventType": "teamMemberAdded",
                "tenant": {"id": TENANT},
            },
        }
    )

    inbound = read(activity)

    assert inbound.activity_type == "conversationUpdate"
    assert inbound.text is None and inbound.submission is None
    assert inbound.conversation.channel_id == TEAM_ID  # the team's General channel
    assert storage_key(inbound.conversation) == (teams_refs.CHANNEL, TEAM_ID)


def test_no_tenant_means_nobody_to_act_for_and_no_service_url_no_reference() -> None:
    payload = personal_message()
    payload["channelData"] = {}
    payload["conversation"] = {"conversationType": "personal", "id": "a:1Lv9"}
    del payload["serviceUrl"]

    inbound = read(Activity().deserialize(payload))

    assert inbound.conversation.tenant_id is None and inbound.actor is None
    assert inbound.conversation.reference is None
