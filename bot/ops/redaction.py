"""Masks secrets and private answers in text that is about to be logged.

Two kinds of things never reach a log line:
- credentials: Slack tokens, signing and client secrets, Microsoft app passwords, Bearer and
  JWT tokens, database URL passwords, the pulse secret — by shape, by the key they follow,
  and by exact value for every secret in the configuration;
- what a person typed or chose in a form (pulse ratings and comments): `submitted(values)`
  marks them for the duration of the turn, so any line logged meanwhile has them masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

MASK = "[redacted]"

_SHAPES: list[tuple[re.Pattern[str], str]] = [
    # Slack bot/user/app/config/refresh tokens and app-level tokens.
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), MASK),
    # JSON Web Tokens (three base64url parts; the first two start with '{"').
    (re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*"), MASK),
    # Authorization headers of any scheme.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + MASK),
    # user:password@ in URLs (database URLs, proxies).
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@"), r"\1" + MASK + "@"),
    # key=value and "key": "value" for keys that always hold a secret.
    (
        re.compile(
            r"(?i)((?:client_secret|signing_secret|app_password|password|secret|token|"
            r"access_token|refresh_token|api_key)['\"]?\s*[:=]\s*['\"]?)[^\s'\",&}]+"
        ),
        r"\1" + MASK,
    ),
    # Slack interactivity bodies carry everything typed into a form.
    (re.compile(r"(\bpayload=)[^\s&]+"), r"\1" + MASK),
]

_SUBMITTED: ContextVar[tuple[tuple[str, str], ...]] = ContextVar(
    "kudos_pulse_submitted", default=()
)


def _texts(value: object) -> Iterator[str]:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        yield str(value)
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from _texts(item)


@contextmanager
def submitted(values: Mapping[str, object]) -> Iterator[None]:
    """Mask these form values (by input name and by text) in whatever is logged meanwhile."""
    pairs = tuple((name, text) for name, value in values.items() for text in _texts(value))
    token = _SUBMITTED.set(_SUBMITTED.get() + pairs)
    try:
        yield
    finally:
        _SUBMITTED.reset(token)


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret containing another is masked whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return _mask_submitted(text)


def _mask_submitted(text: str) -> str:
    for name, value in _SUBMITTED.get():
        # `name: 4`, `'name': '4'`, `name=4`: the value next to its input name, however short.
        text = re.sub(
            rf"({re.escape(name)}['\"]?\s*[:=]\s*['\"]?){re.escape(value)}", r"\1" + MASK, text
        )
        if len(value) >= 3:  # free text (comments) anywhere; a lone digit is masked above only
            text = text.replace(value, MASK)
    return text


def config_secrets(config: object) -> list[str]:
    """Every secret value the configuration holds (missing sections are skipped)."""
    paths = (
        ("slack", "bot_token"),
        ("slack", "signing_secret"),
        ("slack", "app_token"),
        ("slack", "client_secret"),
        ("teams", "app_password"),
        ("pulses", "secret"),
    )
    found: list[str] = []
    for section, key in paths:
        value = getattr(getattr(config, section, None), key, None)
        if isinstance(value, str):
            found.append(value)
    token = getattr(config, "metrics_token", None)
    if isinstance(token, str):
        found.append(token)
    url = getattr(config, "database_url", "")
    match = re.search(r"://[^\s:/@]*:([^\s@/]+)@", url or "")
    if match:
        found.append(match.group(1))
    return found
