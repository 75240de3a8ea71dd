"""What a failed connector call means for the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from adapters.teams.connector import delivery_error
from bot.host import PermanentFailure, RateLimited, TemporaryFailure


class _Response:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.headers = headers or {}


class ConnectorError(Exception):
    """Shaped like msrest's HttpOperationError: the HTTP response hangs off `.response`."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"status {status}")
        self.response = _Response(status, headers)


def test_429_with_retry_after_seconds_is_rate_limited_for_that_long() -> None:
    failure = delivery_error(ConnectorError(429, {"Retry-After": "12"}))
    assert isinstance(failure, RateLimited) and failure.retry_after == 12


def test_429_with_an_http_date_waits_until_then() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    failure = delivery_error(ConnectorError(429, {"Retry-After": format_datetime(when)}))
    assert isinstance(failure, RateLimited) and 25 <= failure.retry_after <= 31


def test_429_without_retry_after_falls_back_to_the_outbox_backoff() -> None:
    assert isinstance(delivery_error(ConnectorError(429)), TemporaryFailure)


@pytest.mark.parametrize("status", [403, 404])
def test_blocked_or_gone_is_permanent(status: int) -> None:
    assert isinstance(delivery_error(ConnectorError(status)), PermanentFailure)


@pytest.mark.parametrize("status", [412, 500, 502, 503, 504])
def test_conflicts_and_server_errors_are_temporary(status: int) -> None:
    assert isinstance(delivery_error(ConnectorError(status)), TemporaryFailure)


def test_a_network_error_is_temporary() -> None:
    assert isinstance(delivery_error(ConnectionResetError("reset")), TemporaryFailure)
