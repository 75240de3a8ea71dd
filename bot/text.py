"""Making user-written text safe to repeat in chat."""

from __future__ import annotations

import re

# U+2060 WORD JOINER after the "@" keeps the word readable but stops every platform's
# broadcast-mention parser from seeing "@here", "@channel" or "@everyone".
_JOIN = "\u2060"
_SLACK_SPECIAL = re.compile(r"<!(here|channel|everyone|group)(?:\|[^>]*)?>", re.IGNORECASE)
_SLACK_SUBTEAM = re.compile(r"<!subteam\^[^>|]*(?:\|@?([^>]*))?>", re.IGNORECASE)
_SLACK_DATE = re.compile(r"<!date\^[^>|]*\|([^>]*)>")
_SLACK_OTHER = re.compile(r"<!([^>]*)>")
_PLAIN_BROADCAST = re.compile(r"(?<![\w.])@(here|channel|everyone|all)\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def neutralise_pings(text: str) -> str:
    """Turn every broadcast or group mention into inert text that still reads the same."""
    text = _SLACK_SPECIAL.sub(lambda m: f"@{_JOIN}{m.group(1).lower()}", text)
    text = _SLACK_SUBTEAM.sub(lambda m: f"@{_JOIN}{m.group(1) or 'group'}", text)
    text = _SLACK_DATE.sub(lambda m: m.group(1), text)
    text = _SLACK_OTHER.sub(lambda m: m.group(1), text)
    return _PLAIN_BROADCAST.sub(lambda m: f"@{_JOIN}{m.group(1)}", text)


def clean_user_text(text: str) -> str:
    """Neutralise pings, drop control characters and collapse runs of spaces."""
    text = _CONTROL.sub("", neutralise_pings(text))
    return re.sub(r"[ \t]+", " ", text).strip()


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
