"""Prometheus metrics, defined once per process; `/metrics` renders the default registry.

Every part of the bot counts into these, so an operator sees commands, acknowledgements, the
outbox and the scheduler on one page. Labels stay low-cardinality: no user or workspace ids.
"""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter, Gauge, Histogram

from storage.errors import is_database_error

COMMANDS = Counter(
    "kudos_pulse_commands_total",
    "Commands handled, by kind (kudos, pulse, team, digest …) and outcome (ok, refused, error).",
    ["kind", "outcome"],
)
ACK_SECONDS = Histogram(
    "kudos_pulse_ack_seconds",
    "Time from receiving a platform request to acknowledging it.",
    ["platform"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0),
)
OUTBOX_DEPTH = Gauge(
    "kudos_pulse_outbox_depth",
    "Outbox rows by status, as last counted.",
    ["status"],
    multiprocess_mode="mostrecent",  # with worker processes: whoever counted last
)
OUTBOX_SENDS = Counter(
    "kudos_pulse_outbox_sends_total",
    "Delivery attempts by platform and outcome "
    "(sent, rate_limited, retried, in_doubt, failed, recovered).",
    ["platform", "outcome"],
)
OUTBOX_BLIND_RESENDS = Counter(
    "kudos_pulse_outbox_blind_resends_total",
    "Messages sent again although an earlier send may have arrived and the platform could "
    "not be asked (Teams; Slack without history access): each may be a duplicate.",
    ["platform"],
)
INBOX_ITEMS = Counter(
    "kudos_pulse_inbox_items_total",
    "Acknowledged requests by outcome (accepted, duplicate, done, retried, failed, dropped).",
    ["outcome"],
)
SCHEDULER_FIRINGS = Counter(
    "kudos_pulse_scheduler_firings_total",
    "Scheduled work done, by kind (pulse_round, reminder, close, digest).",
    ["kind"],
)
REJECTED_REQUESTS = Counter(
    "kudos_pulse_rejected_requests_total",
    "Requests refused before any platform library saw them (forged, stale, malformed or "
    "oversized), by platform and HTTP status.",
    ["platform", "status"],
)
DATABASE_ERRORS = Counter(
    "kudos_pulse_database_errors_total", "Database operations that raised an error.", ["operation"]
)


def count_database_error(operation: str, error: BaseException) -> None:
    if is_database_error(error):
        DATABASE_ERRORS.labels(operation=operation).inc()


class RejectionTally:
    """Counts refused requests for one platform; logs a summary at most once a minute, never a
    line per request: a flood of forgeries must not grow the log with it."""

    EVERY_SECONDS = 60.0

    def __init__(self, platform: str, log: logging.Logger) -> None:
        self.platform = platform
        self.log = log
        self._counters = {
            status: REJECTED_REQUESTS.labels(platform=platform, status=str(status))
            for status in (400, 401, 413, 415)
        }
        self._since_summary = 0
        self._summary_at = time.monotonic()

    def count(self, status: int) -> None:
        counter = self._counters.get(status)
        if counter is None:
            counter = REJECTED_REQUESTS.labels(platform=self.platform, status=str(status))
        counter.inc()
        self._since_summary += 1
        now = time.monotonic()
        if now - self._summary_at >= self.EVERY_SECONDS:
            self.log.info(
                "%s: %d requests rejected in the last %.0f s",
                self.platform,
                self._since_summary,
                now - self._summary_at,
            )
            self._since_summary, self._summary_at = 0, now
