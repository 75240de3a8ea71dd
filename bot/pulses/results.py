"""Round results: response rate, means, % favourable, quadrants, comments, trend."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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
    # Shown in the random order they were stored in; empty when the gate hides them.
    comments: list[str] = field(default_factory=list)
    # Why scores or comments are hidden, for the reader (the visibility gate's words).
    hidden_reason: str | None = None

    @property
    def response_rate(self) -> float:
        return self.responded / self.invited if self.invited else 0.0


Grid = list[list[int]]


def tally(ratings: Iterable[tuple[int, int]]) -> Grid:
    """The answers as a 5×5 count: `grid[easy-1][value-1]`. Nothing of their order survives."""
    grid = [[0] * 5 for _ in range(5)]
    for easy, value in ratings:
        grid[easy - 1][value - 1] += 1
    return grid


def add(one: Grid | None, other: Grid) -> Grid:
    if not one:
        return other
    return [[a + b for a, b in zip(r1, r2, strict=True)] for r1, r2 in zip(one, other, strict=True)]


def from_tally(
    invited: int,
    grid: Grid | None,
    *,
    shown: bool,
    responded: int | None = None,
    comments: Sequence[str] = (),
    hidden_reason: str | None = None,
) -> RoundResult:
    """A closed round's result from its stored tally and the visibility gate's verdict
    (a hidden round keeps no tally, only how many answered)."""
    cells = [(e + 1, v + 1, n) for e, row in enumerate(grid or []) for v, n in enumerate(row)]
    if grid:
        responded = sum(n for _, _, n in cells)
    responded = responded or 0
    if not shown or responded == 0:
        return RoundResult(
            invited=invited, responded=responded, shown=False, hidden_reason=hidden_reason
        )

    def count(test: Callable[[int, int], bool]) -> int:
        return sum(n for e, v, n in cells if test(e, v))

    return RoundResult(
        invited=invited,
        responded=responded,
        shown=True,
        easy_mean=sum(e * n for e, _, n in cells) / responded,
        value_mean=sum(v * n for _, v, n in cells) / responded,
        easy_favourable=count(lambda e, _: e >= FAVOURABLE) / responded,
        value_favourable=count(lambda _, v: v >= FAVOURABLE) / responded,
        quadrants=Quadrants(
            easy_and_valuable=count(lambda e, v: e >= FAVOURABLE and v >= FAVOURABLE),
            easy_only=count(lambda e, v: e >= FAVOURABLE > v),
            valuable_only=count(lambda e, v: v >= FAVOURABLE > e),
            neither=count(lambda e, v: e < FAVOURABLE and v < FAVOURABLE),
        ),
        comments=list(comments),
        hidden_reason=hidden_reason,
    )
