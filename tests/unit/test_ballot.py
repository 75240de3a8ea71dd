"""Sealed ballots: what a bucket reveals without the key, and what the key opens."""

from __future__ import annotations

import pytest

from bot.ops.keys import Keyring
from bot.pulses.ballot import BUCKETS, ENTRY_BYTES, Answer, BallotBox, BallotUnreadable

BOX = BallotBox(Keyring(b"k" * 64, "test"))


def test_a_sealed_bucket_opens_to_the_same_answers() -> None:
    answers = {BOX.tag(1, "slack:T1:U1"): Answer(4, 5, "héllo ✨"), BOX.tag(1, "x"): Answer(1, 2)}
    sealed = BOX.seal(1, 3, answers)
    assert BOX.open(1, 3, sealed) == answers


def test_the_ciphertext_holds_no_tag_score_or_comment() -> None:
    tag = BOX.tag(1, "slack:T1:U1")
    sealed = BOX.seal(1, 0, {tag: Answer(4, 5, "distinctive-comment")})
    assert tag.encode() not in sealed
    assert b"distinctive-comment" not in sealed


def test_size_depends_on_the_number_of_answers_only() -> None:
    short = BOX.seal(1, 0, {"a" * 32: Answer(1, 1, None)})
    long = BOX.seal(1, 0, {"a" * 32: Answer(5, 5, "x" * 1000)})
    wide = BOX.seal(1, 0, {"a" * 32: Answer(5, 5, "語" * 1000)})
    assert len(short) == len(long) == len(wide)
    two = BOX.seal(1, 0, {"a" * 32: Answer(1, 1), "b" * 32: Answer(1, 1)})
    assert len(two) - len(short) == ENTRY_BYTES


def test_sealing_twice_gives_different_bytes() -> None:
    answers = {"a" * 32: Answer(3, 3)}
    assert BOX.seal(1, 0, answers) != BOX.seal(1, 0, answers)


def test_a_bucket_does_not_open_in_another_place_or_under_another_key() -> None:
    sealed = BOX.seal(1, 2, {"a" * 32: Answer(3, 3)})
    with pytest.raises(BallotUnreadable):
        BOX.open(2, 2, sealed)
    with pytest.raises(BallotUnreadable):
        BOX.open(1, 3, sealed)
    with pytest.raises(BallotUnreadable):
        BallotBox(Keyring(b"z" * 64, "other")).open(1, 2, sealed)


def test_tags_are_per_round_and_per_person() -> None:
    assert BOX.tag(1, "slack:T1:U1") == BOX.tag(1, "slack:T1:U1")
    assert BOX.tag(1, "slack:T1:U1") != BOX.tag(2, "slack:T1:U1")
    assert BOX.tag(1, "slack:T1:U1") != BOX.tag(1, "slack:T1:U2")
    assert BallotBox(Keyring(b"z" * 64, "other")).tag(1, "slack:T1:U1") != BOX.tag(
        1, "slack:T1:U1"
    )


def test_buckets_spread_respondents() -> None:
    used = {BOX.bucket_of(BOX.tag(1, f"u{n}")) for n in range(200)}
    assert used == set(range(BUCKETS))


def test_an_empty_bucket_opens_empty() -> None:
    assert BOX.open(1, 0, None) == {}
