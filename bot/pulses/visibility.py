"""The one visibility gate: may a round's scores and comments be shown? Pure decisions, no I/O.

Decided once, when a round closes, on invitation lists and counts; stored with the round, and
every surface (results, digests, trends, exports) asks the stored verdict. A hidden round stays
out of every mean, trend and total as well.

Differencing: two shown aggregates over populations that overlap but differ by fewer than
`min_responses` people let anyone subtract one from the other and learn those few people's
answers. So a round whose invitation list differs from an already shown round's by 1…k−1
people is hidden (the later one: whichever would be shown second). Identical populations are
fine — repeat pulses to one team, trends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Population:
    """A shown round: who was invited (person ids)."""

    round_id: int
    invited: frozenset[int]


@dataclass(frozen=True)
class Verdict:
    scores: bool
    comments: bool
    # Why the scores (or only the comments) are hidden, in words for the reader.
    reason: str | None = None


def near_duplicates(
    invited: frozenset[int], others: Iterable[Population], min_responses: int
) -> list[int]:
    """Rounds whose audience overlaps this one's but differs from it by 1…k−1 people."""
    return [
        other.round_id
        for other in others
        if invited & other.invited and 0 < len(invited ^ other.invited) < min_responses
    ]


def decide(
    invited: frozenset[int],
    responded: int,
    shown_before: Iterable[Population],
    *,
    min_responses: int,
    min_comment_responses: int,
) -> Verdict:
    """The verdict for a round closing now, given the rounds already shown."""
    if responded < min_responses:
        return Verdict(
            scores=False,
            comments=False,
            reason=f"fewer than {min_responses} people answered",
        )
    clash = near_duplicates(invited, shown_before, min_responses)
    if clash:
        return Verdict(
            scores=False,
            comments=False,
            reason=(
                f"its audience differs from pulse {clash[0]}'s by fewer than {min_responses} "
                "people, so showing both would reveal individual answers"
            ),
        )
    if responded < min_comment_responses:
        return Verdict(
            scores=True,
            comments=False,
            reason=f"comments are shown once at least {min_comment_responses} people answered",
        )
    # Comments need no differencing check of their own: every round showing comments shows
    # scores, so a near-duplicate of it was already refused above.
    return Verdict(scores=True, comments=True)


def progress(responded: int, min_responses: int) -> str:
    """The live count of an open round, coarse on purpose: an exact count that ticks up
    while someone is watching a colleague press the button says who answered."""
    if responded < min_responses:
        return f"fewer than {min_responses} answers so far"
    return f"{min_responses} or more answers so far"
