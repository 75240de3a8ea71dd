"""When failed queue work is tried again: the inbox's and the outbox's rules, with no I/O."""

from __future__ import annotations

from dataclasses import dataclass

# The longest an outbox message waits between two tries (five minutes).
OUTBOX_BACKOFF_CAP_SECONDS = 300.0
# The inbox writer pauses this much at most while the database cannot be reached.
WRITER_PAUSE_CAP_SECONDS = 5.0
# Beyond this, 2.0 ** n overflows a float; every cap is reached long before.
_LARGEST_EXPONENT = 1023


@dataclass(frozen=True)
class Retry:
    """Try again in `seconds`. `refund`: the failed try does not count towards the limit."""

    seconds: float
    refund: bool = False


def doubling(attempt: int, *, base: float, cap: float) -> float:
    """base × 2^attempt, never more than `cap`."""
    return min(cap, base * 2.0 ** min(max(attempt, 0), _LARGEST_EXPONENT))


def with_jitter(seconds: float, draw: float) -> float:
    """Between half and all of `seconds`, by `draw` in [0, 1): messages that failed together
    (a platform outage) come back spread out instead of all at once."""
    return seconds * (0.5 + draw / 2)


def outbox_retry(attempts: int, *, max_attempts: int, draw: float) -> Retry | None:
    """After try number `attempts` of a message failed: when to try again — a doubling,
    jittered backoff (`draw` in [0, 1)) — or None once `max_attempts` tries have failed."""
    if attempts >= max_attempts:
        return None
    backoff = doubling(attempts, base=1.0, cap=OUTBOX_BACKOFF_CAP_SECONDS)
    return Retry(seconds=with_jitter(backoff, draw))


# A send whose outcome is unknown is not tried again sooner than this: a post that did arrive
# gets time to show in the conversation's history, a platform in trouble time to recover.
IN_DOUBT_DELAY_SECONDS = 10.0
# How long a rate-limited delivery check may be put off before the message goes out unchecked.
IN_DOUBT_PATIENCE_SECONDS = 900.0


def in_doubt_retry(attempts: int, *, max_attempts: int, draw: float) -> Retry | None:
    """After try number `attempts` may have been delivered: as `outbox_retry`, but never
    sooner than IN_DOUBT_DELAY_SECONDS."""
    retry = outbox_retry(attempts, max_attempts=max_attempts, draw=draw)
    if retry is None:
        return None
    return Retry(seconds=max(retry.seconds, IN_DOUBT_DELAY_SECONDS))


def check_again(retry_after: float, doubt_age: float) -> Retry | None:
    """The check of an in-doubt send was rate limited: ask again after Retry-After (the try
    does not count), or None — send without knowing — once the doubt is
    IN_DOUBT_PATIENCE_SECONDS old: a message must not wait on history reads for ever."""
    if doubt_age + retry_after > IN_DOUBT_PATIENCE_SECONDS:
        return None
    return after_rate_limit(retry_after)


def after_rate_limit(retry_after: float) -> Retry:
    """A rate limit is waited out exactly as long as the platform asked (Retry-After), and
    does not use up a try: the message was never at fault."""
    return Retry(seconds=retry_after, refund=True)


def inbox_retry(attempts: int, *, max_attempts: int, step_seconds: float) -> Retry | None:
    """After try number `attempts` of a handler raised: when to run it again — `step_seconds`,
    then twice that, and so on — or None once `max_attempts` tries have failed."""
    if attempts >= max_attempts:
        return None
    return Retry(seconds=step_seconds * attempts)


def writer_pause(failures: int) -> float:
    """How long the inbox writer waits after `failures` failed writes in a row before it tries
    again: short at first (a blip), never long (acknowledged requests wait in memory)."""
    return doubling(failures, base=0.2, cap=WRITER_PAUSE_CAP_SECONDS)
