"""Slack Web API failures → the outbox's vocabulary (retry later, wait, or give up)."""

from __future__ import annotations

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.host import DeliveryError, PermanentFailure, RateLimited, TemporaryFailure

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


def delivery_error(error: BaseException) -> DeliveryError:
    """Classify anything a Web API call raised."""
    if isinstance(error, DeliveryError):
        return error
    if isinstance(error, SlackApiError):
        code = error_code(error)
        if error.response.status_code == 429 or code == "ratelimited":
            return RateLimited(_retry_after(error), f"slack rate limited ({code or 429})")
        if code in PERMANENT:
            return PermanentFailure(f"slack: {code}")
        return TemporaryFailure(f"slack: {code or error.response.status_code}")
    if isinstance(error, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return TemporaryFailure(f"slack unreachable: {type(error).__name__}")
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
