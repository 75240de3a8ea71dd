"""Slack's message markup in and out: what the core receives, and how user text is escaped."""

from __future__ import annotations

import re

# A partial entity or markup token left at the end of a cut string would show up as garbage.
_DANGLING = re.compile(r"(&[a-z]{0,4}|<[^>]*)$")


def neutral_text(slack_text: str) -> str:
    """Slack text → the core's neutral text.

    Mentions (`<@U123|name>`) and channels (`<#C1|general>`) already have the neutral shape;
    only Slack's escaping of the three control characters is undone (`&amp;` last, so
    `&amp;lt;` becomes the literal `&lt;` the user typed).
    """
    return slack_text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escape(text: str) -> str:
    """User text → mrkdwn that cannot ping or inject markup (`<!channel>` becomes inert)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """Shorten rendered mrkdwn to `limit` characters without breaking an entity or a token."""
    if len(text) <= limit:
        return text
    return _DANGLING.sub("", text[: limit - 1]).rstrip() + "…"


def cut_plain(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
