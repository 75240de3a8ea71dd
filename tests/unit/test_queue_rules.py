"""When failed inbox and outbox work is tried again: the rules alone, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.runtime.inbox import MAX_ATTEMPTS, RETRY_SECONDS
from bot.runtime.retries import (
    OUTBOX_BACKOFF_CAP_SECONDS,
    WRITER_PAUSE_CAP_SECONDS,
    Retry,
    after_rate_limit,
    doubling,
    inbox_retry,
    outbox_retry,
    with_jitter,
    writer_pause,
)

attempts = st.integers(min_value=0, max_value=10_000)
tries = st.integers(min_value=1, max_value=1000)
draws = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
seconds = st.floats(min_value=0.001, max_value=3600.0)


@given(attempt=attempts, base=seconds, cap=seconds)
def test_doubling_never_exceeds_its_cap(attempt: int, base: float, cap: float) -> None:
    assert doubling(attempt, base=base, cap=cap) <= cap


@given(first=attempts, second=attempts, base=seconds, cap=seconds)
def test_doubling_never_shrinks_as_attempts_grow(
    first: int, second: int, base: float, cap: float
) -> None:
    low, high = sorted((first, second))
    assert doubling(low, base=base, cap=cap) <= doubling(high, base=base, cap=cap)


def test_doubling_doubles_until_the_cap() -> None:
    assert [doubling(n, base=1.0, cap=20.0) for n in range(7)] == [1, 2, 4, 8, 16, 20, 20]


@given(wait=seconds, draw=draws)
def test_jitter_keeps_between_half_and_all_of_the_wait(wait: float, draw: float) -> None:
    assert wait / 2 <= with_jitter(wait, draw) <= wait


@given(attempt=st.integers(min_value=1, max_value=99), draw=draws)
def test_an_outbox_retry_waits_at_most_five_minutes(attempt: int, draw: float) -> None:
    retry = outbox_retry(attempt, max_attempts=100, draw=draw)
    assert retry is not None and not retry.refund
    assert 0.5 <= retry.seconds <= OUTBOX_BACKOFF_CAP_SECONDS


@given(first=st.integers(min_value=1, max_value=49), later=st.integers(1, 49), draw=draws)
def test_an_outbox_retry_waits_longer_after_more_failures(
    first: int, later: int, draw: float
) -> None:
    """With the same luck of the draw, a message that failed more often waits no less."""
    low, high = sorted((first, later))
    sooner = outbox_retry(low, max_attempts=50, draw=draw)
    after = outbox_retry(high, max_attempts=50, draw=draw)
    assert sooner is not None and after is not None
    assert sooner.seconds <= after.seconds


def test_outbox_backoff_doubles_from_two_seconds() -> None:
    waits = [outbox_retry(n, max_attempts=10, draw=0.999999) for n in range(1, 10)]
    assert [round(retry.seconds) for retry in waits if retry] == [
        2,
        4,
        8,
        16,
        32,
        64,
        128,
        256,
        300,
    ]


@given(max_attempts=tries, tried=tries, draw=draws)
def test_the_outbox_gives_up_once_every_attempt_failed(
    max_attempts: int, tried: int, draw: float
) -> None:
    retry = outbox_retry(tried, max_attempts=max_attempts, draw=draw)
    assert (retry is None) == (tried >= max_attempts)


@given(retry_after=st.floats(min_value=0.0, max_value=86_400.0))
def test_a_rate_limit_waits_exactly_retry_after_and_costs_no_attempt(retry_after: float) -> None:
    assert after_rate_limit(retry_after) == Retry(seconds=retry_after, refund=True)


def test_a_failing_inbox_handler_runs_again_after_5_then_10_seconds_then_gives_up() -> None:
    retries = [
        inbox_retry(n, max_attempts=MAX_ATTEMPTS, step_seconds=RETRY_SECONDS)
        for n in range(1, MAX_ATTEMPTS + 1)
    ]
    assert retries == [Retry(seconds=5.0), Retry(seconds=10.0), None]


@given(attempt=tries, max_attempts=tries, step=seconds)
def test_inbox_retries_grow_by_one_step_each_until_the_last_attempt(
    attempt: int, max_attempts: int, step: float
) -> None:
    retry = inbox_retry(attempt, max_attempts=max_attempts, step_seconds=step)
    if attempt >= max_attempts:
        assert retry is None
    else:
        assert retry == Retry(seconds=step * attempt)


@pytest.mark.parametrize(
    ("failures", "pause"), [(1, 0.4), (2, 0.8), (3, 1.6), (4, 3.2), (5, 5.0), (50, 5.0)]
)
def test_the_inbox_writer_pauses_briefly_then_at_most_five_seconds(
    failures: int, pause: float
) -> None:
    assert writer_pause(failures) == pytest.approx(pause)


@given(failures=attempts)
def test_the_inbox_writer_never_pauses_longer_than_its_cap(failures: int) -> None:
    assert 0 < writer_pause(failures) <= WRITER_PAUSE_CAP_SECONDS
