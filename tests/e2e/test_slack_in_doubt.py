"""A worker dies after Slack accepted its messages but before it recorded that: the next worker
finds them in the conversation's history (by the outbox key in the message metadata) and marks
them sent instead of posting them twice — or, when Slack will not show the history, resends
(counted); a rate-limited history is asked once and the checks wait for Retry-After."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlmodel import select

from adapters.slack.sender import OUTBOX_EVENT, SlackSender
from bot.host import RateLimited
from bot.messages import Message, ToChannel, ToPerson
from bot.runtime import outbox
from bot.runtime.clock import ManualClock
from storage.models import OutboxItem
from storage.repositories import outbox as rows
from tests.harness.fakes.slack_api import TEAM
from tests.harness.slack import SlackHarness

pytestmark = pytest.mark.asyncio

MESSAGES = {
    "note:bob": Message(audience=ToPerson(user_id="UBOB"), text="hello bob"),
    "note:general": Message(audience=ToChannel(channel_id="CGENERAL"), text="hello everyone"),
    "note:carol": Message(audience=ToPerson(user_id="UCAROL"), text="hello carol"),
}


async def _crash_after_delivering(slack: SlackHarness, clock: ManualClock, *keys: str) -> None:
    """Queue every message; a worker claims them all, delivers `keys` through the real Slack
    sender (its own, as another process would have), and dies before recording anything."""
    slack.fake.ts_clock = lambda: clock.now().timestamp()
    workspace = await slack.app.core.people.workspace("slack", TEAM)
    assert workspace.id is not None
    async with slack.app.db.write() as session:
        for key, message in MESSAGES.items():
            await outbox.enqueue(
                session,
                workspace_id=workspace.id,
                platform="slack",
                key=key,
                message=message,
                now=clock.now(),
            )
        claimed = await rows.claim_due(
            session,
            worker="crashed",
            now=clock.now(),
            lease=timedelta(seconds=60),
            limit=10,
            platforms=["slack"],
        )
    assert len(claimed) == 3
    dead_worker = SlackSender(slack.adapter.clients, TEAM)
    for key in keys:
        await dead_worker.send(MESSAGES[key], key=key)
    clock.advance(timedelta(seconds=61))  # the dead worker's lease runs out


async def _outbox(slack: SlackHarness) -> dict[str, OutboxItem]:
    async with slack.app.db.read() as unit:
        session = unit.session
        found = (await session.exec(select(OutboxItem))).all()
    return {row.dedupe_key: row for row in found}


def _posted_to(slack: SlackHarness) -> list[str]:
    return sorted(str(call.args["channel"]) for call in slack.fake.to("chat.postMessage"))


async def test_delivered_but_unrecorded_messages_are_recognised_not_posted_twice(
    slack: SlackHarness, clock: ManualClock
) -> None:
    await _crash_after_delivering(slack, clock, "note:bob", "note:general")
    posts = slack.fake.to("chat.postMessage")
    assert [call.args["metadata"] for call in posts] == [
        {"event_type": OUTBOX_EVENT, "event_payload": {"key": "note:bob"}},
        {"event_type": OUTBOX_EVENT, "event_payload": {"key": "note:general"}},
    ]

    await slack.settle()

    # Bob and #general got theirs once; carol's was never sent, so it is sent now.
    assert _posted_to(slack) == ["CGENERAL", "UBOB", "UCAROL"]
    stored = await _outbox(slack)
    assert {key: row.status for key, row in stored.items()} == dict.fromkeys(MESSAGES, "sent")
    assert slack.app.outbox.stats.recovered == 2
    bob_ts = slack.fake.timeline["DUBOB"][0]["ts"]
    assert stored["note:bob"].platform_ref == f"DUBOB:{bob_ts}"  # editable later, as if sent
    # All three were in doubt; each was looked up where it would have gone: #general, and
    # the DMs' channels (this process had not posted to them yet, so it opened them).
    assert sorted(call.args["users"] for call in slack.fake.to("conversations.open")) == [
        "UBOB",
        "UCAROL",
    ]
    lookups = slack.fake.to("conversations.history")
    assert sorted(call.args["channel"] for call in lookups) == ["CGENERAL", "DUBOB", "DUCAROL"]
    claimed_at = (clock.now() - timedelta(seconds=61)).timestamp()
    for call in lookups:
        assert call.args["include_all_metadata"] in {"1", "true"}
        assert int(call.args["limit"]) <= 15
        assert float(call.args["oldest"]) <= claimed_at < float(call.args["oldest"]) + 600


async def test_when_history_may_not_be_read_the_message_is_resent_and_counted(
    slack: SlackHarness, clock: ManualClock
) -> None:
    await _crash_after_delivering(slack, clock, "note:bob")
    slack.fake.fail("conversations.history", "missing_scope", times=3)

    await slack.settle()

    # Better twice than never: without the history the outbox cannot tell, so it resends —
    # each of the three in-doubt rows, counted as a blind resend.
    assert _posted_to(slack) == ["CGENERAL", "UBOB", "UBOB", "UCAROL"]
    assert {row.status for row in (await _outbox(slack)).values()} == {"sent"}
    assert slack.app.outbox.stats.recovered == 0
    assert slack.app.outbox.stats.blind_resends == 3


async def test_a_rate_limited_history_costs_one_read_and_the_check_waits(
    slack: SlackHarness, clock: ManualClock
) -> None:
    await _crash_after_delivering(slack, clock, "note:bob")
    slack.fake.rate_limit("conversations.history", retry_after=1)

    await slack.settle()

    # Three rows in doubt, one history read: after its 429 the others did not ask, and none
    # was resent — they wait for Retry-After, the try not counted.
    assert len(slack.fake.to("conversations.history")) == 1
    assert _posted_to(slack) == ["UBOB"]
    stored = await _outbox(slack)
    assert {row.status for row in stored.values()} == {"pending"}
    assert {row.attempts for row in stored.values()} == {1}  # the crashed claim's try only

    await asyncio.sleep(1.1)  # the sender's pause runs on real time
    clock.advance(timedelta(seconds=2))
    await slack.settle()

    # Then each is checked once: Bob's is found, the other two are sent, nothing twice.
    assert _posted_to(slack) == ["CGENERAL", "UBOB", "UCAROL"]
    assert len(slack.fake.to("conversations.history")) == 4
    assert slack.app.outbox.stats.recovered == 1
    assert slack.app.outbox.stats.blind_resends == 0


async def test_a_check_kept_waiting_too_long_gives_way_to_a_counted_resend(
    slack: SlackHarness, clock: ManualClock
) -> None:
    await _crash_after_delivering(slack, clock, "note:bob")
    slack.fake.rate_limit("conversations.history", retry_after=300)

    await slack.settle()
    assert _posted_to(slack) == ["UBOB"]
    clock.advance(timedelta(seconds=301))
    await slack.settle()  # still paused (a real-time pause): not checked, not sent
    assert _posted_to(slack) == ["UBOB"]
    clock.advance(timedelta(seconds=301))
    await slack.settle()

    # A quarter of an hour in doubt: the messages go out unchecked, each counted.
    assert _posted_to(slack) == ["CGENERAL", "UBOB", "UBOB", "UCAROL"]
    assert len(slack.fake.to("conversations.history")) == 1
    assert slack.app.outbox.stats.blind_resends == 3


async def test_a_rate_limited_history_is_not_asked_again_until_retry_after(
    slack: SlackHarness,
) -> None:
    sender = SlackSender(slack.adapter.clients, TEAM)
    await sender.send(MESSAGES["note:general"], key="note:general")
    slack.fake.rate_limit("conversations.history", retry_after=60)

    for _ in range(2):
        with pytest.raises(RateLimited):
            await sender.find_delivered("note:general", message=MESSAGES["note:general"])
    assert len(slack.fake.to("conversations.history")) == 1

    other = SlackSender(slack.adapter.clients, TEAM)  # not paused: it finds the message
    found = await other.find_delivered("note:general", message=MESSAGES["note:general"])
    assert found is not None and found.ref == f"CGENERAL:{slack.fake.timeline['CGENERAL'][0]['ts']}"
