"""The visibility gate: thresholds and differencing, decided on invitation lists and counts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.pulses.visibility import Population, decide, near_duplicates, progress

K = 5
TEAM = frozenset(range(1, 11))


def verdict(invited: frozenset[int], responded: int, shown: list[Population] | None = None):
    return decide(invited, responded, shown or [], min_responses=K, min_comment_responses=8)


def test_too_few_answers_hide_scores_and_comments() -> None:
    result = verdict(TEAM, 4)
    assert (result.scores, result.comments) == (False, False)
    assert result.reason == "fewer than 5 people answered"


def test_enough_for_scores_but_not_comments() -> None:
    result = verdict(TEAM, 6)
    assert (result.scores, result.comments) == (True, False)
    assert "8" in (result.reason or "")


def test_enough_for_both() -> None:
    assert verdict(TEAM, 8) == verdict(TEAM, 10)
    assert verdict(TEAM, 8).comments is True


def test_an_audience_one_person_apart_from_a_shown_round_is_hidden() -> None:
    shown = [Population(round_id=7, invited=TEAM)]
    result = verdict(TEAM | {11}, 9, shown)
    assert result.scores is False and result.comments is False
    assert "pulse 7" in (result.reason or "")


def test_the_same_audience_again_is_fine() -> None:
    """Repeat pulses to one team and their trend are the point of the product."""
    assert verdict(TEAM, 9, [Population(round_id=7, invited=TEAM)]).scores is True


def test_disjoint_audiences_do_not_interfere() -> None:
    other = Population(round_id=3, invited=frozenset({50, 51, 52}))
    assert verdict(TEAM, 9, [other]).scores is True


def test_audiences_k_apart_are_fine() -> None:
    wider = Population(round_id=3, invited=TEAM | frozenset(range(11, 11 + K)))
    assert verdict(TEAM, 9, [wider]).scores is True
    narrower = Population(round_id=4, invited=TEAM | frozenset(range(11, 11 + K - 1)))
    assert verdict(TEAM, 9, [narrower]).scores is False


def test_a_near_duplicate_shows_neither_scores_nor_comments() -> None:
    result = verdict(TEAM | {11}, 10, [Population(round_id=2, invited=TEAM)])
    assert (result.scores, result.comments) == (False, False)


def test_near_duplicates_names_each_clashing_round() -> None:
    rounds = [
        Population(1, TEAM),
        Population(2, TEAM | {11}),
        Population(3, TEAM - {1, 2}),
        Population(4, frozenset({99})),
    ]
    assert near_duplicates(TEAM | {11, 12}, rounds, K) == [1, 2, 3]


def test_live_progress_is_coarse() -> None:
    assert progress(0, K) == progress(4, K) == "fewer than 5 answers so far"
    assert progress(5, K) == progress(60, K) == "5 or more answers so far"


@given(
    base=st.frozensets(st.integers(1, 40), min_size=1, max_size=30),
    extra=st.frozensets(st.integers(41, 60), min_size=1, max_size=K - 1),
    responded=st.integers(K, 40),
)
def test_no_two_shown_rounds_differ_by_fewer_than_k_people(
    base: frozenset[int], extra: frozenset[int], responded: int
) -> None:
    """Whatever the audiences, once one round is shown, any overlapping round whose audience
    differs from it by 1…k−1 people is hidden — so no subtraction isolates fewer than k."""
    first = Population(round_id=1, invited=base)
    second = verdict(base | extra, responded, [first])
    assert second.scores is False


@given(responded=st.integers(0, 100), k=st.integers(3, 20))
def test_showing_is_monotonic_in_answers(responded: int, k: int) -> None:
    shown = decide(TEAM, responded, [], min_responses=k, min_comment_responses=k + 3)
    more = decide(TEAM, responded + 1, [], min_responses=k, min_comment_responses=k + 3)
    assert shown.scores <= more.scores and shown.comments <= more.comments
    assert shown.scores == (responded >= k)
