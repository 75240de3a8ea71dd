"""Slack Web API failures → the outbox's vocabulary (retry later, wait, or give up)."""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.host import (
    DeliveryError,
    OutcomeUnknown,
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
)

# Errors no retry can fix (PLATFORMS.md §1.4): the person, channel or installation is gone.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "user_not_found",
        "users_not_found",
        "account_inactive",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "token_revoked",
        "not_authed",
        "no_permission",
        "missing_scope",
        "cannot_dm_bot",
        "user_disabled",
        "team_access_not_granted",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
        "invalid_blocks_format",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
    }
)


def error_code(error: SlackApiError) -> str:
    try:
        return str(error.response.get("error") or "")
    except Exception:  # a non-JSON body (proxy error page)
        return ""


# Failures raised before a byte of the request left: nothing can have arrived.
NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, ConnectionRefusedError)


def delivery_error(error: BaseException, *, posting: bool = False) -> DeliveryError:
    """Classify anything a Web API call raised. `posting`: the call posts a new message, so a
    failure after the request went out (a 5xx, a timeout, a dropped connection) leaves its
    outcome unknown — Slack may have posted it. An `ok: false` answer or a 4xx is a known
    failure: Slack said it did not."""
    if isinstance(error, DeliveryError):
        return error
    if isinstance(error, SlackApiError):
        code = error_code(error)
        status = error.response.status_code
        if status == 429 or code == "ratelimited":
            return RateLimited(_retry_after(error), f"slack rate limited ({code or 429})")
        if code in PERMANENT:
            return PermanentFailure(f"slack: {code}")
        if posting and status >= 500:
            return OutcomeUnknown(f"slack answered {status}")
        return TemporaryFailure(f"slack: {code or status}")
    if isinstance(error, NOT_SENT):
        return TemporaryFailure(f"slack unreachable: {type(error).__name__}")
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        name = type(error).__name__
        if posting:
            return OutcomeUnknown(f"slack call broke off after sending: {name}")
        return TemporaryFailure(f"slack unreachable: {name}")
    return TemporaryFailure(f"slack call failed: {type(error).__name__}: {error}")


def _retry_after(error: SlackApiError) -> float:
    headers = error.response.headers or {}
    raw = headers.get("Retry-After") or headers.get("retry-after") or "1"
    if isinstance(raw, list):
        raw = raw[0] if raw else "1"
    try:
        return max(0.0, float(raw))
    except ValueError:
        return 1.0
