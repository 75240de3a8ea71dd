"""Prometheus metrics, defined once per process; `/metrics` renders the default registry.

Every part of the bot counts into these, so an operator sees commands, acknowledgements, the
outbox and the scheduler on one page. Labels stay low-cardinality: no user or workspace ids.
"""

from __future__ import annotations

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
DATABASE_ERRORS = Counter(
    "kudos_pulse_database_errors_total", "Database operations that raised an error.", ["operation"]
)


def count_database_error(operation: str, error: BaseException) -> None:
    if is_database_error(error):
        DATABASE_ERRORS.labels(operation=operation).inc()
