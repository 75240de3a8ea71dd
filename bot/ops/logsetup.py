"""Logging for the process: JSON lines (LOG_FORMAT=json) or readable text, always redacted.

Every record passes one filter on the handler, which renders the message (and any
traceback) once and masks secrets and submitted answers in it, so no formatter, third-party
library or exception text can leak them. The ids bound with `bot.logcontext` ride along.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

from bot.ops import logcontext
from bot.ops.redaction import Redactor, config_secrets

# Libraries that log whole request/response bodies or SQL parameters (form answers, tokens)
# below WARNING; they stay at WARNING whatever level the bot itself logs at.
# Libraries whose INFO lines are routine, not news: alembic's two context lines on every
# connection it inspects (each /readyz probe, each start and check), APScheduler's lines on
# every tick. Below DEBUG they say only what an operator acts on (warnings and errors).
ROUTINE = ("alembic", "apscheduler")
CHATTY = (
    "slack_bolt",
    "slack_sdk",
    "botbuilder",
    "botframework",
    "aiohttp.access",
    "aiohttp.client",
    "asyncpg",
    "aiosqlite",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
)


class RedactingFilter(logging.Filter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in logcontext.current().items():
            setattr(record, f"ctx_{key}", self.redact(value))
        record.ctx_keys = tuple(logcontext.current())
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in getattr(record, "ctx_keys", ()):
            entry[key] = getattr(record, f"ctx_{key}")
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        keys = getattr(record, "ctx_keys", ())
        ids = " ".join(f"{key}={getattr(record, f'ctx_{key}')}" for key in keys)
        if not ids:
            return line
        head, newline, rest = line.partition("\n")
        return f"{head} [{ids}]{newline}{rest}"


def configure(
    config: object | None = None,
    *,
    level: str = "INFO",
    log_format: str | None = None,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Replace the root logger's handlers with one redacting handler; returns it."""
    handler = logging.StreamHandler(stream or sys.stderr)
    as_json = (log_format or "").lower() == "json"
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    handler.addFilter(RedactingFilter(Redactor(config_secrets(config) if config else ())))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ROUTINE:
        debugging = root.level <= logging.DEBUG
        logging.getLogger(name).setLevel(logging.NOTSET if debugging else logging.WARNING)
    return handler
