"""The kudos story through Microsoft Teams: activities POSTed to /api/messages, answers read
from a fake Bot Framework connector, storage checked on SQLite or PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bot.app import Application
from bot.runtime.clock import ManualClock
from storage.models import OutboxItem, Person, Recognition, RecognitionTag, TeamsConversationRef
from tests.harness.helpers import count, stored_kudos
from tests.harness.teams import (
    CHANNEL,
    GROUP_CHAT,
    TENANT,
    TeamsChat,
    personal_conversation,
)


async def test_kudos_in_a_channel_celebrates_there_and_dms_each_recipient(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_in_team()

    await teams.say(
        "alice",
        "kudos <at>Bob</at> <at>Carol</at> for untangling the refund flow #easy #value",
        where="channel",
        mentions=("bob", "carol"),
    )

    [celebration] = teams.in_channel()
    assert celebration.conversation_id == CHANNEL and celebration.reply_to is None
    assert "🎉 <at>Alice</at> gave kudos to <at>Bob</at> and <at>Carol</at>" in celebration.shown
    assert "for untangling the refund flow" in celebration.shown
    assert "⚡ Made it EASY  ·  💎 Added VALUE" in celebration.shown
    assert sorted(celebration.mentioned_ids) == ["29:alice", "29:bob", "29:carol"]
    for name in ("bob", "carol"):
        [dm] = teams.dms_to(name)
        assert "🎉 You received kudos from <at>Alice</at>" in dm.shown
        assert dm.mentioned_ids == ["29:alice"]
    # The confirmation is private: in Alice's 1:1 chat, not in the channel.
    [confirmation] = teams.dms_to("alice")
    assert "✅ Kudos sent to <at>Bob</at> and <at>Carol</at>. You have 3 of 5 left today." in (
        confirmation.shown
    )
    assert await stored_kudos(app.db) == (1, 2, 3)
    assert await count(app.db, RecognitionTag) == 2
    async with app.db.read() as unit:
        session = unit.session
        recognition = (await session.exec(select(Recognition))).one()
    assert recognition.channel_id == CHANNEL


async def test_kudos_in_personal_chat_answers_in_place_and_keeps_the_senders_time_zone(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_personal("alice")

    shown = await teams.say(
        "alice", "kudos <at>Bob</at> for the quick review #easy", mentions=("bob",)
    )

    assert shown[0].conversation_id == personal_conversation("alice")
    assert "✅ Kudos sent to <at>Bob</at>" in shown[0].shown
    assert "You received kudos from <at>Alice</at>" in teams.dms_to("bob")[0].shown
    assert teams.in_channel() == []  # no channel here, so no celebration post
    async with app.db.read() as unit:
        session = unit.session
        alice = (await session.exec(select(Person).where(Person.external_id == "29:alice"))).one()
    assert alice.timezone == "Europe/Berlin"
    assert alice.display_name == "Alice"


async def test_a_slash_works_too_and_group_chats_celebrate_in_the_chat(
    teams: TeamsChat, app: Application
) -> None:
    await teams.say(
        "dan",
        "/kudos <at>Erin</at> for running the retro #value",
        where="group",
        mentions=("erin",),
    )

    celebration = teams.connector.to(GROUP_CHAT)
    assert len(celebration) == 1 and "gave kudos to <at>Erin</at>" in celebration[0].shown
    assert await stored_kudos(app.db) == (1, 1, 2)


async def test_a_recipient_who_never_talked_to_the_bot_still_gets_the_dm(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_personal("alice")

    await teams.say("alice", "kudos <at>Gina</at> for the onboarding guide", mentions=("gina",))

    [created] = teams.connector.created
    assert created["members"] == [{"id": "29:gina"}]
    assert created["bot"]["id"] == "28:kudos-bot"
    assert created["channelData"] == {"tenant": {"id": TENANT}}
    conversation = teams.connector.conversation_of("29:gina")
    [dm] = teams.connector.to(conversation or "")
    assert "You received kudos from <at>Alice</at>" in dm.shown
    # The new 1:1 chat is remembered: the next DM reuses it.
    assert await count(app.db, TeamsConversationRef, TeamsConversationRef.key == "29:gina") == 1
    await teams.say("alice", "kudos <at>Gina</at> for the second guide", mentions=("gina",))
    assert len(teams.connector.created) == 1
    assert len(teams.connector.to(conversation or "")) == 2


async def test_references_are_stored_on_install_and_on_every_message(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_in_team()
    await teams.install_personal("bob")
    async with app.db.read() as unit:
        session = unit.session
        rows = (await session.exec(select(TeamsConversationRef))).all()
    assert sorted((row.scope, row.key) for row in rows) == [
        ("channel", CHANNEL),
        ("user", "29:bob"),
    ]
    channel = next(row for row in rows if row.scope == "channel")
    assert channel.reference["conversation"]["id"] == CHANNEL  # the channel, not the thread
    assert channel.reference["serviceUrl"] == teams.connector.url

    await teams.say("carol", "kudos help")
    assert await count(app.db, TeamsConversationRef, TeamsConversationRef.key == "29:carol") == 1


@pytest.mark.parametrize(
    ("text", "mentions", "expected"),
    [
        (
            "kudos <at>Alice</at> for being my own hero #easy",
            ("alice",),
            "You can't give kudos to yourself",
        ),
        (
            "kudos <at>Deploybot</at> for shipping the release #easy",
            ("deploybot",),
            "Deploybot is a bot — kudos are for people",
        ),
        (
            "kudos <at>Bob</at> for fixing the build #speedy",
            ("bob",),
            "Unknown tag #speedy. Valid tags: #easy (Made it EASY), #value (Added VALUE).",
        ),
        ("kudos <at>Bob</at> #easy", ("bob",), "Add a reason — what did they do?"),
        (
            "kudos <at>Bob</at> for " + "x" * 997,
            ("bob",),
            "Your reason is 1,001 characters; the limit is 1,000.",
        ),
        ("kudos Bob for the help", (), "Start with who you are thanking"),
    ],
)
async def test_refusals_are_private_and_store_nothing(
    teams: TeamsChat, app: Application, text: str, mentions: tuple[str, ...], expected: str
) -> None:
    await teams.install_in_team()

    shown = await teams.say("alice", text, where="channel", mentions=mentions)

    assert teams.in_channel() == []
    assert [post.conversation_id for post in shown] == [teams.connector.conversation_of("29:alice")]
    assert expected in shown[0].shown
    assert await stored_kudos(app.db) == (0, 0, 0)


async def test_the_sixth_award_of_the_day_is_refused(teams: TeamsChat, app: Application) -> None:
    await teams.install_personal("alice")
    for name in ("bob", "carol", "dan", "erin", "frank"):
        shown = await teams.say(
            "alice",
            f"kudos <at>{name.title()}</at> for reviewing my pull request",
            mentions=(name,),
            deliver=False,
        )
        assert "✅" in shown[0].shown
    before = await stored_kudos(app.db)

    shown = await teams.say(
        "alice", "kudos <at>Gina</at> for reviewing my pull request", mentions=("gina",)
    )

    assert "You've given all 5 of today's kudos" in shown[0].shown
    assert shown[0].conversation_id == personal_conversation("alice")
    assert await stored_kudos(app.db) == before


async def test_user_written_markup_cannot_mention_anyone(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_in_team()

    await teams.say(
        "alice",
        "kudos <at>Bob</at> for helping &lt;at&gt;Carol&lt;/at&gt; &amp; the team",
        where="channel",
        mentions=("bob",),
    )

    [celebration] = teams.in_channel()
    assert "for helping &lt;at&gt;Carol&lt;/at&gt; &amp; the team" in celebration.shown
    assert "29:carol" not in celebration.mentioned_ids
    async with app.db.read() as unit:
        session = unit.session
        reason = (await session.exec(select(Recognition.reason))).one()
    assert reason == "for helping <at>Carol</at> & the team"


async def test_stats_top_undo_and_help(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    await teams.install_in_team()
    await teams.say(
        "alice",
        "kudos <at>Bob</at> <at>Carol</at> for the incident write-up #value",
        where="channel",
        mentions=("bob", "carol"),
    )
    await teams.say(
        "dan", "kudos <at>Bob</at> for pairing on the migration #easy", mentions=("bob",)
    )

    top = await teams.say("alice", "kudos top week")
    assert "🏆 Top kudos this week" in top[0].shown
    assert top[0].shown.index("🥇 <at>Bob</at> — 2") < top[0].shown.index("🥈 <at>Carol</at> — 1")

    stats = await teams.say("bob", "kudos stats")
    assert "Received this week: 2" in stats[0].shown
    assert stats[0].conversation_id == personal_conversation("bob")

    help_text = await teams.say("erin", "kudos help", where="channel")
    assert "how to give kudos" in help_text[0].shown
    assert teams.in_channel() == [teams.connector.to(CHANNEL)[0]]  # only the first celebration

    clock.advance(timedelta(minutes=5))
    undone = await teams.say("dan", "kudos undo")
    assert "↩️ Withdrawn: your kudos to @Bob" in undone[0].shown
    assert await count(app.db, Recognition, Recognition.revoked_at.is_not(None)) == 1  # type: ignore[union-attr]


async def test_undo_edits_the_celebration_in_place(teams: TeamsChat, app: Application) -> None:
    await teams.install_in_team()
    await teams.say(
        "alice", "kudos <at>Bob</at> for the release notes", where="channel", mentions=("bob",)
    )
    [celebration] = teams.in_channel()

    await teams.say("alice", "kudos undo", where="channel")

    [edit] = teams.connector.updated
    assert edit.conversation_id == CHANNEL
    assert edit.reply_to == celebration.id  # the PUT went to the celebration's activity id
    assert "This kudos was withdrawn by <at>Alice</at>" in edit.shown
    assert len(teams.in_channel()) == 1  # edited, not posted again


async def test_a_429_is_retried_after_retry_after(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    await teams.install_personal("alice")
    await teams.install_personal("bob")
    await teams.say(
        "alice", "kudos <at>Bob</at> for the fast refund fix", mentions=("bob",), deliver=False
    )
    teams.connector.failures.append((429, {"Retry-After": "1"}))

    await app.outbox.drain()
    assert teams.connector.failed_posts == 1 and teams.dms_to("bob") == []
    async with app.db.read() as unit:
        session = unit.session
        item = (await session.exec(select(OutboxItem))).one()
    assert item.status == "pending" and item.not_before == clock.now() + timedelta(seconds=1)

    clock.advance(timedelta(seconds=1))
    await app.outbox.drain()
    assert "You received kudos from <at>Alice</at>" in teams.dms_to("bob")[0].shown


async def test_a_403_fails_the_delivery_for_good(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    await teams.install_personal("alice")
    await teams.install_personal("bob")
    await teams.say(
        "alice", "kudos <at>Bob</at> for the fast refund fix", mentions=("bob",), deliver=False
    )
    teams.connector.failures.append((403, {}))

    await app.outbox.drain()
    clock.advance(timedelta(hours=1))
    await app.outbox.drain()

    assert teams.dms_to("bob") == []
    async with app.db.read() as unit:
        session = unit.session
        item = (await session.exec(select(OutboxItem))).one()
    assert item.status == "failed" and "403" in (item.last_error or "")


async def test_an_answer_throttled_with_a_short_retry_after_is_sent_again(
    teams: TeamsChat,
) -> None:
    await teams.install_personal("alice")
    teams.connector.failures.append((429, {"Retry-After": "0.2"}))

    shown = await teams.say("alice", "kudos help")

    assert teams.connector.failed_posts == 1
    assert len(shown) == 1 and "how to give kudos" in shown[0].shown


async def test_each_request_is_timed_for_the_ack_metric(teams: TeamsChat) -> None:
    from bot.ops.metrics import ACK_SECONDS

    def observed() -> float:
        return next(
            sample.value
            for metric in ACK_SECONDS.collect()
            for sample in metric.samples
            if sample.name.endswith("_count") and sample.labels == {"platform": "teams"}
        )

    ACK_SECONDS.labels("teams")  # make sure the series exists before counting
    before = observed()
    await teams.say("alice", "kudos help")
    assert observed() == before + 1


async def test_a_redelivered_message_gives_once_but_equal_ids_in_other_chats_count(
    teams: TeamsChat, app: Application
) -> None:
    text = "kudos <at>Bob</at> for the fast refund fix"
    first = teams.activity("alice", text=text, mentions=("bob",), activity_id="1700000000000")
    elsewhere = teams.activity("carol", text=text, mentions=("bob",), activity_id="1700000000000")

    assert await teams.post(first) == 201
    assert await teams.post(first) == 201  # Teams retried the delivery
    assert await teams.post(elsewhere) == 201  # another chat: message ids repeat there

    async with app.db.read() as unit:
        session = unit.session
        givers = (await session.exec(select(Recognition.giver_id))).all()
    assert len(givers) == 2 and len(set(givers)) == 2


async def test_a_412_is_tried_again_later(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    await teams.install_personal("alice")
    await teams.install_personal("bob")
    await teams.say(
        "alice", "kudos <at>Bob</at> for the fast refund fix", mentions=("bob",), deliver=False
    )
    teams.connector.failures.append((412, {}))

    await app.outbox.drain()
    assert teams.dms_to("bob") == []
    clock.advance(timedelta(minutes=5))
    await app.outbox.drain()

    assert "You received kudos from <at>Alice</at>" in teams.dms_to("bob")[0].shown


async def test_when_the_senders_personal_chat_is_out_of_reach_the_answer_is_shown_in_place(
    teams: TeamsChat, app: Application
) -> None:
    await teams.install_in_team()
    teams.connector.create_failures.append((403, {}))  # the app is not installed for Alice

    shown = await teams.say(
        "alice",
        "kudos <at>Bob</at> for fixing the build #speedy",
        where="channel",
        mentions=("bob",),
    )

    [answer] = shown
    assert answer.conversation_id.startswith(CHANNEL) and answer.reply_to is not None
    assert "Unknown tag #speedy" in answer.shown
    assert await stored_kudos(app.db) == (0, 0, 0)
