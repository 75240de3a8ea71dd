"""Sending paused per workspace after Slack said `app_rate_limited`.

Slack sends that notice when a workspace's events to this app exceed its limit (30,000 an hour)
and then holds events back for the rest of the minute. Sending into that workspace during the
same minute only adds load, so the outbox waits: the Slack sender answers "rate limited" (the
outbox requeues the message and pauses that workspace's pacer) until the pause ends.

The notice reaches workers through the inbox, so the worker that handles it pauses; with
several worker processes the others keep their own pace (and their own 429 handling).
"""

from __future__ import annotations

import time

# Never pause for less (a notice about a minute already over still means "slow down") or more.
MIN_PAUSE_SECONDS = 5.0
MAX_PAUSE_SECONDS = 60.0


class SendingPauses:
    def __init__(self) -> None:
        self._until: dict[str, float] = {}  # team id → time.monotonic() when sending resumes

    def pause_for_minute(self, team_id: str, minute_started: int) -> float:
        """Pause until the rate-limited minute is over; returns the pause in seconds."""
        left = minute_started + 60 - time.time()
        seconds = min(MAX_PAUSE_SECONDS, max(MIN_PAUSE_SECONDS, left))
        resume = time.monotonic() + seconds
        self._until[team_id] = max(self._until.get(team_id, 0.0), resume)
        return seconds

    def remaining(self, team_id: str) -> float:
        """Seconds until sending into `team_id` may resume; 0 when it is not paused."""
        until = self._until.get(team_id)
        if until is None:
            return 0.0
        left = until - time.monotonic()
        if left <= 0:
            del self._until[team_id]
            return 0.0
        return left
