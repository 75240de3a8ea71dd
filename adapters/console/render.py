"""Neutral messages as plain terminal text."""

from __future__ import annotations

import re

from bot.messages import (
    Buttons,
    ChannelLink,
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


def spans_text(spans: list[Span]) -> str:
    parts: list[str] = []
    for span in spans:
        if isinstance(span, Mention):
            parts.append(f"@{span.user_id}")
        elif isinstance(span, ChannelLink):
            parts.append(f"#{span.name or span.channel_id}")
        elif isinstance(span, Strong):
            parts.append(f"*{span.text}*")
        else:
            parts.append(span.text)
    return "".join(parts)


# What a terminal would act on rather than show: C0/C1 controls (escape sequences) and bidi
# overrides. The core cleans user text; names from a directory pass here as well.
_TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def render(message: Message) -> list[str]:
    return [_TERMINAL.sub("", line) for line in _render(message)]


def _render(message: Message) -> list[str]:
    if not message.blocks:
        return message.text.splitlines() or [""]
    lines: list[str] = []
    for block in message.blocks:
        match block:
            case Header(text=text):
                lines.append(f"== {text} ==")
            case Section(spans=spans):
                lines.append(spans_text(spans))
            case Quote(text=text):
                lines.extend(f"> {line}" for line in text.splitlines() or [""])
            case Fields(items=items):
                lines.extend(f"{label}: {value}" for label, value in items)
            case Context(spans=spans):
                lines.append(f"  {spans_text(spans)}")
            case Divider():
                lines.append("---")
            case Buttons(buttons=buttons):
                lines.append("  ".join(f"[{button.label}]" for button in buttons))
            case Form():
                lines.extend(_form(block))
    return lines


def _form(form: Form) -> list[str]:
    lines = [f"📝 {form.title}"]
    for field in form.inputs:
        if isinstance(field, RatingInput):
            scale = " ".join(str(n) for n in range(1, field.scale + 1))
            lines.append(f"  {field.label}: {scale}  ({field.low_label} … {field.high_label})")
        else:
            lines.append(f"  {field.label}")
    if form.text_hint:
        lines.append(f"  In the console, type: {form.text_hint}")
    return lines
