"""Neutral messages as terminal text.

Piped (scripts, tests) the console keeps Slack's own light markup: `*bold*`, `code`. On a
terminal it shows what that markup means instead: bold as bold, code in colour, no markers.
"""

from __future__ import annotations

import re

from bot.messages import (
    Buttons,
    ChannelLink,
    Chart,
    Context,
    Divider,
    Fields,
    Form,
    Header,
    Mention,
    Message,
    Quote,
    RatingInput,
    Section,
    Span,
    Strong,
)

# ANSI: bold on/off, cyan on/default.
_BOLD, _NOT_BOLD, _CYAN, _DEFAULT_COLOUR = "\x1b[1m", "\x1b[22m", "\x1b[36m", "\x1b[39m"
_STRONG_MARKUP = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_CODE_MARKUP = re.compile(r"`([^`\n]+)`")


def _strong(text: str, terminal: bool) -> str:
    text = _visible(text)
    return f"{_BOLD}{text}{_NOT_BOLD}" if terminal else f"*{text}*"


def styled(text: str, terminal: bool) -> str:
    """The bot's own text with its markup shown for what it means (on a terminal)."""
    text = _visible(text)
    if not terminal:
        return text
    text = _CODE_MARKUP.sub(lambda match: f"{_CYAN}{match.group(1)}{_DEFAULT_COLOUR}", text)
    return _STRONG_MARKUP.sub(lambda match: _strong(match.group(1), terminal), text)


def spans_text(spans: list[Span], terminal: bool = False) -> str:
    parts: list[str] = []
    for span in spans:
        if isinstance(span, Mention):
            parts.append(f"@{_visible(span.user_id)}")
        elif isinstance(span, ChannelLink):
            parts.append(f"#{_visible(span.name or span.channel_id)}")
        elif isinstance(span, Strong):
            parts.append(_strong(span.text, terminal))
        else:
            parts.append(styled(span.text, terminal))
    return "".join(parts)


# What a terminal would act on rather than show: C0/C1 controls (escape sequences) and bidi
# overrides. The core cleans user text; names from a directory pass here as well. Removed from
# every piece of text before the console adds styling of its own.
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(text: str) -> str:
    return _TERMINAL.sub("", text)


def render(message: Message, terminal: bool = False) -> list[str]:
    """`terminal`: styled for a person at a terminal rather than for a pipe."""
    if not message.blocks:
        return [styled(line, terminal) for line in message.text.splitlines()] or [""]
    lines: list[str] = []
    for block in message.blocks:
        match block:
            case Header(text=text):
                lines.append(f"== {_strong(text, True) if terminal else _visible(text)} ==")
            case Section(spans=spans):
                lines.append(spans_text(spans, terminal))
            case Quote(text=text):  # people's own words: shown exactly as typed
                lines.extend(f"> {_visible(line)}" for line in text.splitlines() or [""])
            case Fields(items=items):
                lines.extend(styled(f"{label}: {value}", terminal) for label, value in items)
            case Context(spans=spans):
                lines.append(f"  {spans_text(spans, terminal)}")
            case Divider():
                lines.append("---")
            case Buttons(buttons=buttons):
                lines.append("  ".join(f"[{_visible(button.label)}]" for button in buttons))
            case Form():
                lines.extend(_form(block))
            case Chart(title=title, alt=alt):  # the picture is saved as a file (platform.py)
                lines.append(f"📊 {_visible(title)}")
                lines.append(f"  {_visible(alt)}")
    return lines


def _form(form: Form) -> list[str]:
    lines = [f"📝 {_visible(form.title)}"]
    for field in form.inputs:
        if isinstance(field, RatingInput):
            scale = " ".join(str(n) for n in range(1, field.scale + 1))
            low, high = _visible(field.low_label), _visible(field.high_label)
            lines.append(f"  {_visible(field.label)}: {scale}  ({low} … {high})")
        else:
            lines.append(f"  {_visible(field.label)}")
    if form.text_hint:
        lines.append(f"  In the console, type: {form.text_hint}")
    return lines
