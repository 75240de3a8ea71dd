"""Request and event ids carried through a turn, so every log line of that turn names them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_IDS: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("kudos_pulse_log_ids", default=())


def current() -> dict[str, str]:
    """The ids bound in this task (request_id, event_id, platform …)."""
    return dict(_IDS.get())


@contextmanager
def bind(**ids: str | None) -> Iterator[None]:
    """Add ids for the duration of a block (e.g. one Slack request or one outbox delivery)."""
    merged = {**dict(_IDS.get()), **{key: value for key, value in ids.items() if value}}
    token = _IDS.set(tuple(merged.items()))
    try:
        yield
    finally:
        _IDS.reset(token)
