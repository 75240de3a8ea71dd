"""Round results: response rate, means, % favourable, quadrants, comments, trend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

FAVOURABLE = 4  # 4 and 5 are favourable answers


@dataclass(frozen=True)
class Quadrants:
    easy_and_valuable: int = 0
    easy_only: int = 0
    valuable_only: int = 0
    neither: int = 0


@dataclass(frozen=True)
class RoundResult:
    invited: int
    responded: int
    # False below the anonymity threshold: every aggregate below is then None / empty.
    shown: bool
    easy_mean: float | None = None
    value_mean: float | None = None
    easy_favourable: float | None = None
    value_favourable: float | None = None
    quadrants: Quadrants | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def response_rate(self) -> float:
        return self.responded / self.invited if self.invited else 0.0


def summarise(
    invited: int, answers: Sequence[tuple[int, int, str | None]], min_responses: int
) -> RoundResult:
    responded = len(answers)
    if responded < min_responses or responded == 0:
        return RoundResult(invited=invited, responded=responded, shown=False)
    easy = [answer[0] for answer in answers]
    value = [answer[1] for answer in answers]
    quadrants = Quadrants(
        easy_and_valuable=sum(
            e >= FAVOURABLE and v >= FAVOURABLE for e, v in zip(easy, value, strict=True)
        ),
        easy_only=sum(e >= FAVOURABLE > v for e, v in zip(easy, value, strict=True)),
        valuable_only=sum(v >= FAVOURABLE > e for e, v in zip(easy, value, strict=True)),
        neither=sum(e < FAVOURABLE and v < FAVOURABLE for e, v in zip(easy, value, strict=True)),
    )
    # Sorted, so the order says nothing about who answered first.
    comments = sorted(comment for _, _, comment in answers if comment)
    return RoundResult(
        invited=invited,
        responded=responded,
        shown=True,
        easy_mean=sum(easy) / responded,
        value_mean=sum(value) / responded,
        easy_favourable=sum(e >= FAVOURABLE for e in easy) / responded,
        value_favourable=sum(v >= FAVOURABLE for v in value) / responded,
        quadrants=quadrants,
        comments=comments,
    )
