"""Neutral messages → Block Kit, within Slack's limits.

User text is escaped (`&<>`), so it can neither ping nor inject markup; real mentions come only
from `Mention` spans. Forms render generically from their inputs: each input becomes an input
block whose `block_id` is the input's name and whose `action_id` is the input's kind, so a
submission can be read back without knowing which form it was (see `forms.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.slack.text import cut, cut_plain, escape
from bot.messages import (
    Block,
    Buttons,
    ChannelLink,
    Chart,
    ChoiceInput,
    Context,
    Divider,
    Fields,
    Form,
    Header,
    Input,
    Mention,
    Message,
    PeopleInput,
    Quote,
    RatingInput,
    Section,
    Span,
    Strong,
    TextInput,
)

# Limits from Slack's Block Kit reference (see PLATFORMS.md §1.6).
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
HOME_BLOCKS = 100  # a Home tab view holds up to 100 blocks, like a modal
IMAGE_TEXT = 2000  # an image block's alt_text and title
SECTION_TEXT = 3000
FALLBACK_TEXT = 3000
HEADER_TEXT = 150
FIELDS_PER_SECTION = 10
FIELD_TEXT = 2000
CONTEXT_TEXT = 2000
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
BUTTONS_PER_BLOCK = 25
OPTION_TEXT = 75
OPTION_VALUE = 150
RADIO_OPTIONS = 10
SELECT_OPTIONS = 100
LABEL_TEXT = 2000
PLACEHOLDER_TEXT = 150
MODAL_TITLE = 24
METADATA = 3000

# The one action id of every inline form's submit button, and the prefix of plain buttons.
SUBMIT_ACTION = "kp_form_submit"
BUTTON_ACTION = "kp_button"
MODAL_CALLBACK = "kp_form"


def plain(text: str, limit: int) -> dict[str, Any]:
    return {"type": "plain_text", "text": cut_plain(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": cut(text, limit) or " "}


def spans_mrkdwn(spans: list[Span]) -> str:
    parts: list[str] = []
    for span in spans:
        if isinstance(span, Mention):
            parts.append(f"<@{span.user_id}>")
        elif isinstance(span, ChannelLink):
            parts.append(f"<#{span.channel_id}>")
        elif isinstance(span, Strong):
            parts.append(f"*{escape(span.text)}*" if span.text.strip() else escape(span.text))
        else:
            parts.append(escape(span.text))
    return "".join(parts)


def fallback_text(message: Message) -> str:
    """The notification text: the core's plain summary, escaped."""
    return cut(escape(message.text), FALLBACK_TEXT)


def render_blocks(message: Message, *, modal_as_inline: bool = True) -> list[dict[str, Any]]:
    """Every block of `message` as Block Kit (at most 50). A modal form inside a message that
    cannot open a modal is shown inline, so it still works."""
    if not message.blocks:  # a plain message still gets one section, escaped like the rest
        return [{"type": "section", "text": mrkdwn(escape(message.text))}]
    blocks: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, Form) and block.modal and not modal_as_inline:
            continue
        blocks.extend(render_block(block))
    return _fit(blocks, MESSAGE_BLOCKS)


def home_view(message: Message, files: Mapping[int, str] | None = None) -> dict[str, Any]:
    """A person's home as a Home tab view for views.publish (up to 100 blocks). `files`: by
    block index, the Slack file id of each chart the bot uploaded; the others show their
    words."""
    blocks: list[dict[str, Any]] = []
    for index, block in enumerate(message.blocks):
        if isinstance(block, Chart):
            blocks.append(_home_chart(block, (files or {}).get(index)))
        else:
            blocks.extend(render_block(block))
    return {"type": "home", "blocks": _fit(blocks, HOME_BLOCKS)}


def _home_chart(chart: Chart, file_id: str | None) -> dict[str, Any]:
    if file_id is None:
        words = f"📊 *{escape(chart.title)}*: {escape(chart.alt)}"
        return {"type": "context", "elements": [mrkdwn(words, CONTEXT_TEXT)]}
    # A file the bot uploaded (shared nowhere), shown by id: Slack serves it, no public URL.
    return {
        "type": "image",
        "slack_file": {"id": file_id},
        "alt_text": cut_plain(chart.alt, IMAGE_TEXT) or chart.title,
        "title": plain(f"📊 {chart.title}", IMAGE_TEXT),
    }


def render_block(block: Block) -> list[dict[str, Any]]:
    match block:
        case Header(text=text):
            return [{"type": "header", "text": plain(text, HEADER_TEXT)}]
        case Section(spans=spans):
            return [{"type": "section", "text": mrkdwn(spans_mrkdwn(spans))}]
        case Quote(text=text):
            lines = escape(text).splitlines() or [""]
            return [{"type": "section", "text": mrkdwn("\n".join(f">{line}" for line in lines))}]
        case Fields(items=items):
            return _fields(items)
        case Context(spans=spans):
            return [{"type": "context", "elements": [mrkdwn(spans_mrkdwn(spans), CONTEXT_TEXT)]}]
        case Divider():
            return [{"type": "divider"}]
        case Buttons():
            return _buttons(block)
        case Form():
            return inline_form(block)
        case Chart():
            return [{"type": "context", "elements": [mrkdwn(chart_text(block), CONTEXT_TEXT)]}]
    return []


def chart_text(chart: Chart) -> str:
    """A chart's line in the message: its title, and its words when there is no picture (not
    drawn, or not uploadable); an uploaded picture carries the words as its alt text."""
    if chart.png is not None:
        return f"📊 *{escape(chart.title)}* (picture below)"
    return f"📊 *{escape(chart.title)}*: {escape(chart.alt)}"


def _fields(items: list[tuple[str, str]]) -> list[dict[str, Any]]:
    rendered = [mrkdwn(f"*{escape(label)}*\n{escape(value)}", FIELD_TEXT) for label, value in items]
    return [
        {"type": "section", "fields": rendered[start : start + FIELDS_PER_SECTION]}
        for start in range(0, len(rendered), FIELDS_PER_SECTION)
    ] or []


def _buttons(block: Buttons) -> list[dict[str, Any]]:
    elements = []
    for index, button in enumerate(block.buttons[:BUTTONS_PER_BLOCK]):
        element: dict[str, Any] = {
            "type": "button",
            "action_id": f"{BUTTON_ACTION}:{index}",
            "text": plain(button.label, BUTTON_TEXT),
            "value": _compact({"a": button.action, "v": button.value})[:BUTTON_VALUE],
        }
        if button.style != "default":
            element["style"] = button.style
        elements.append(element)
    return [{"type": "actions", "elements": elements}] if elements else []


# -- forms -----------------------------------------------------------------------------------


def inline_form(form: Form) -> list[dict[str, Any]]:
    """A form inside a message: its inputs, then a submit button carrying form id and context."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": mrkdwn(f"*{escape(form.title)}*")},
        *(input_block(field) for field in form.inputs),
    ]
    submit = {
        "type": "button",
        "action_id": SUBMIT_ACTION,
        "style": "primary",
        "text": plain(form.submit_label, BUTTON_TEXT),
        "value": _compact({"f": form.form_id, "c": form.context}),
    }
    if len(submit["value"]) > BUTTON_VALUE:
        raise ValueError(f"form {form.form_id}: context too large for a Slack button value")
    blocks.append(
        {
            "type": "actions",
            "block_id": f"{SUBMIT_ACTION}:{form.form_id}"[:255],
            "elements": [submit],
        }
    )
    return blocks


def modal_view(
    form: Form, *, channel_id: str | None, extra: Sequence[Block] = ()
) -> dict[str, Any]:
    """A modal form for views.open; `private_metadata` carries form id, context and channel."""
    metadata = _compact({"f": form.form_id, "c": form.context, "ch": channel_id or ""})
    if len(metadata) > METADATA:
        raise ValueError(f"form {form.form_id}: context too large for private_metadata")
    blocks: list[dict[str, Any]] = []
    for block in extra:
        blocks.extend(render_block(block))
    blocks.extend(input_block(field) for field in form.inputs)
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": plain(form.title, MODAL_TITLE),
        "submit": plain(form.submit_label, MODAL_TITLE),
        "close": plain("Cancel", MODAL_TITLE),
        "private_metadata": metadata,
        "blocks": _fit(blocks, MODAL_BLOCKS),
    }


def input_block(field: Input) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": field.name[:255],
        "label": plain(field.label, LABEL_TEXT),
        "element": _element(field),
    }
    if getattr(field, "optional", False):
        block["optional"] = True
    return block


def _element(field: Input) -> dict[str, Any]:
    match field:
        case PeopleInput(multiple=multiple):
            kind = "multi_users_select" if multiple else "users_select"
            return {"type": kind, "action_id": field.kind}
        case ChoiceInput(choices=choices, multiple=multiple):
            options = [_option(choice.value, choice.label) for choice in choices][:SELECT_OPTIONS]
            if multiple:
                kind = "checkboxes" if len(options) <= RADIO_OPTIONS else "multi_static_select"
            else:
                kind = "radio_buttons" if len(options) <= RADIO_OPTIONS else "static_select"
            return {"type": kind, "action_id": field.kind, "options": options}
        case RatingInput():
            return _rating(field)
        case TextInput():
            element: dict[str, Any] = {
                "type": "plain_text_input",
                "action_id": field.kind,
                "multiline": field.multiline,
            }
            if field.max_length:
                element["max_length"] = field.max_length
            if field.placeholder:
                element["placeholder"] = plain(field.placeholder, PLACEHOLDER_TEXT)
            return element
    raise TypeError(f"cannot render input {field!r}")


def _rating(field: RatingInput) -> dict[str, Any]:
    options = []
    for score in range(1, field.scale + 1):
        label = str(score)
        if score == 1 and field.low_label:
            label = f"1 — {field.low_label}"
        elif score == field.scale and field.high_label:
            label = f"{score} — {field.high_label}"
        options.append(_option(str(score), label))
    kind = "radio_buttons" if len(options) <= RADIO_OPTIONS else "static_select"
    element: dict[str, Any] = {"type": kind, "action_id": field.kind, "options": options}
    if field.selected is not None and 1 <= field.selected <= field.scale:
        element["initial_option"] = options[field.selected - 1]
    return element


def _option(value: str, label: str) -> dict[str, Any]:
    if len(value) > OPTION_VALUE:
        raise ValueError(f"choice value longer than {OPTION_VALUE} characters: {value[:20]}…")
    return {"text": plain(label, OPTION_TEXT), "value": value}


def _fit(blocks: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    if len(blocks) <= limit:
        return blocks
    dropped = len(blocks) - (limit - 1)
    note = {"type": "context", "elements": [mrkdwn(f"…and {dropped} more not shown.")]}
    return [*blocks[: limit - 1], note]


def _compact(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
