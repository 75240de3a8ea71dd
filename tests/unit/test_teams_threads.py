"""A celebration in a thread on Teams: the channel's reference, pointed at the day's post."""

from __future__ import annotations

from botbuilder.schema import ConversationAccount, ConversationReference

from adapters.teams.sender import in_thread, make_ref


def test_a_reply_goes_to_the_posts_thread_and_the_channel_reference_is_untouched() -> None:
    channel = "19:general@thread.tacv2"
    reference = ConversationReference(conversation=ConversationAccount(id=channel))
    posted = make_ref(channel, "1700000000123")
    assert posted is not None

    threaded = in_thread(reference, posted)

    assert threaded.conversation.id == f"{channel};messageid=1700000000123"
    assert reference.conversation.id == channel  # the stored reference is not changed
