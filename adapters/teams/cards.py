"""The neutral message model as Teams activities: Adaptive Cards (1.4) or escaped plain text.

User text is escaped (`&`, `<`, `>`), so a user-written `<at>` stays inert; only `Mention`
spans become `<at>…</at>` with a matching mention entity, which is what makes Teams notify.
A form's submit button carries the form id, the form's context and how to read each input
back, so a submission can be handed to the core without remembering the card.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botbuilder.schema import Activity, ActivityTypes, Attachment, ChannelAccount
from botbuilder.schema import Mention as MentionEntity

from bot.messages import (
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

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.4"
# Teams' documented limit for bot messages is larger, but 28 KB is what every client accepts.
MAX_CARD_BYTES = 28 * 1024
# An image's text alternative: room for a map's every point, well inside the card budget.
ALT_TEXT = 2000

# Our buttons are Action.Execute (Universal Actions): the press arrives as an
# `adaptiveCard/action` invoke the bot answers with an updated card. Cards sent before still
# carry Action.Submit, whose press arrives as a message with `value`; both carry the same data.
EXECUTE_VERB = "kp.submit"
# The home card's automatic refresh: its data names the home's own refresh form.
HOME_REFRESH_VERB = "home.refresh"
# Keys of our own in the actions' data; Teams merges the card's input values beside them.
FORM_KEY = "kp_form"
CONTEXT_KEY = "kp_context"
KINDS_KEY = "kp_inputs"
ORIGIN_KEY = "kp_origin"
ACTION_KEY = "kp_action"
VALUE_KEY = "kp_value"

PEOPLE, CHOICES, CHOICE, RATING, TEXT = "people", "choices", "choice", "rating", "text"


# Card text is Markdown: a word joiner (invisible) after "]" where "(", "[" or ":" follows keeps
# user text such as `[Reset your password](https://evil.example)` (or a reference link and its
# definition) from becoming a link.
_LINK_SYNTAX = re.compile(r"\](?=[(\[:])")


def escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _LINK_SYNTAX.sub("]\u2060", text)


def at_text(mention: Mention) -> str:
    return f"<at>{escape(mention.name or mention.user_id)}</at>"


def mention_entity(mention: Mention) -> dict[str, Any]:
    return {
        "type": "mention",
        "text": at_text(mention),
        "mentioned": {"id": mention.user_id, "name": mention.name or mention.user_id},
    }


@dataclass
class _Card:
    """Collects body elements and the mention entities they need."""

    body: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    mentions: dict[str, dict[str, Any]] = field(default_factory=dict)
    separate_next: bool = False

    def add(self, element: dict[str, Any]) -> None:
        if self.separate_next:
            element = {**element, "separator": True, "spacing": "Medium"}
            self.separate_next = False
        self.body.append(element)

    def spans(self, spans: list[Span]) -> str:
        parts: list[str] = []
        for span in spans:
            if isinstance(span, Mention):
                entity = mention_entity(span)
                self.mentions.setdefault(entity["text"] + span.user_id, entity)
                parts.append(entity["text"])
            elif isinstance(span, ChannelLink):
                parts.append(escape(f"#{span.name}") if span.name else "the channel")
            elif isinstance(span, Strong):
                parts.append(f"**{escape(span.text)}**")
            else:
                parts.append(escape(span.text))
        return "".join(parts)


# Above this many members a static list would not fit a card; the org-wide picker is used.
MAX_PEOPLE_CHOICES = 150

People = list[tuple[str, str]]  # (29: id, name)


def render(
    message: Message,
    *,
    origin: str | None = None,
    people: People | None = None,
    chart_urls: Mapping[int, str] | None = None,
    viewer: str | None = None,
) -> Activity:
    """One outgoing activity for `message`. `origin` is the channel a form was asked for in;
    `people`, when known, are offered as a choice list instead of the org-wide people picker."""
    if not message.blocks:
        return Activity(type=ActivityTypes.message, text=escape(message.text), text_format="xml")
    card = adaptive_card(
        message, origin=origin, people=people, chart_urls=chart_urls, viewer=viewer
    )
    return Activity(
        type=ActivityTypes.message,
        summary=message.text[:200],
        attachments=[Attachment(content_type=CARD_TYPE, content=card)],
        entities=[
            MentionEntity(
                mentioned=ChannelAccount(
                    id=entity["mentioned"]["id"], name=entity["mentioned"]["name"]
                ),
                text=entity["text"],
                type="mention",
            )
            for entity in card.get("msteams", {}).get("entities", [])
        ],
    )


def adaptive_card(
    message: Message,
    *,
    origin: str | None = None,
    people: People | None = None,
    chart_urls: Mapping[int, str] | None = None,
    viewer: str | None = None,
) -> dict[str, Any]:
    """`chart_urls`: where each drawn chart (by block index) can be loaded from. `viewer`: for
    a home, the person it was built for; Teams then asks the bot for each viewer's own version
    (Universal Actions' user-specific refresh)."""
    card = _Card()
    for index, block in enumerate(message.blocks):
        match block:
            case Header(text=text):
                card.add(_text(escape(text), size="Medium", weight="Bolder"))
            case Section(spans=spans):
                card.add(_text(card.spans(spans)))
            case Quote(text=text):
                card.add({"type": "Container", "style": "emphasis", "items": [_text(escape(text))]})
            case Fields(items=items):
                facts = [{"title": escape(label), "value": escape(value)} for label, value in items]
                card.add({"type": "FactSet", "facts": facts})
            case Context(spans=spans):
                card.add(_text(card.spans(spans), size="Small", isSubtle=True))
            case Divider():
                card.separate_next = True
            case Buttons(buttons=buttons):
                card.add(
                    {
                        "type": "ActionSet",
                        "actions": [
                            {
                                "type": "Action.Execute",
                                "verb": EXECUTE_VERB,
                                "title": button.label,
                                **({"style": "positive"} if button.style == "primary" else {}),
                                **({"style": "destructive"} if button.style == "danger" else {}),
                                "data": {ACTION_KEY: button.action, VALUE_KEY: button.value},
                            }
                            for button in buttons
                        ],
                    }
                )
            case Form():
                _form(card, block, origin, people)
            case Chart():
                _chart(card, block, (chart_urls or {}).get(index))
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "fallbackText": message.text,
        "body": card.body,
        "msteams": {"width": "Full"},
    }
    if card.actions:
        content["actions"] = card.actions
    if card.mentions:
        content["msteams"]["entities"] = list(card.mentions.values())
    if message.home and viewer:
        content["refresh"] = home_refresh(viewer)
    return fit(content)


def _chart(card: _Card, chart: Chart, url: str | None) -> None:
    """A chart as an Image by URL (never inlined: a data URI would eat the 28 KB budget), with
    only the properties of Adaptive Cards 1.0–1.2, which older Teams mobile clients render;
    its words instead when it has no URL (not drawn, or the bot has no public address)."""
    card.add(_text(f"📊 **{escape(chart.title)}**", size="Small"))
    if url is None:
        card.add(_text(escape(chart.alt), size="Small", isSubtle=True))
        return
    card.add(
        {"type": "Image", "url": url, "altText": chart.alt[:ALT_TEXT], "size": "Stretch"}
    )


def home_refresh(viewer: str) -> dict[str, Any]:
    """When `viewer` looks at the card, Teams invokes this action and shows the card the bot
    answers with: their own home, as it is now. Listed users only (Teams allows up to 60)."""
    return {
        "action": {
            "type": "Action.Execute",
            "verb": HOME_REFRESH_VERB,
            "title": "Refresh",
            "data": {ACTION_KEY: HOME_REFRESH_VERB, VALUE_KEY: ""},
        },
        "userIds": [viewer],
    }


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _form(card: _Card, form: Form, origin: str | None, people: People | None) -> None:
    card.add(_text(escape(form.title), size="Medium", weight="Bolder"))
    for field_ in form.inputs:
        card.add(_input(field_, people))
    data: dict[str, Any] = {
        FORM_KEY: form.form_id,
        CONTEXT_KEY: dict(form.context),
        KINDS_KEY: {field_.name: _kind(field_) for field_ in form.inputs},
    }
    if origin:
        data[ORIGIN_KEY] = origin
    card.actions.append(
        {
            "type": "Action.Execute",
            "verb": EXECUTE_VERB,
            "title": form.submit_label,
            "style": "positive",
            "data": data,
        }
    )


def _kind(field_: Input) -> str:
    if isinstance(field_, PeopleInput):
        return PEOPLE
    if isinstance(field_, ChoiceInput):
        return CHOICES if field_.multiple else CHOICE
    if isinstance(field_, RatingInput):
        return RATING
    return TEXT


def _input(field_: Input, people: People | None = None) -> dict[str, Any]:
    base: dict[str, Any] = {"id": field_.name, "label": field_.label}
    if isinstance(field_, PeopleInput) and people and len(people) <= MAX_PEOPLE_CHOICES:
        # The members of the channel the form was asked for in; values are 29: ids already.
        return {
            **base,
            "type": "Input.ChoiceSet",
            "isMultiSelect": field_.multiple,
            "isRequired": True,
            "errorMessage": "Choose at least one person.",
            "style": "compact",
            "choices": [
                {"title": name or user_id, "value": user_id}
                for user_id, name in sorted(people, key=lambda person: person[1].lower())
            ],
        }
    if isinstance(field_, PeopleInput):
        # Teams' people picker: searches the organisation, returns AAD object ids.
        return {
            **base,
            "type": "Input.ChoiceSet",
            "isMultiSelect": field_.multiple,
            "isRequired": True,
            "errorMessage": "Choose at least one person.",
            "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": "graph.microsoft.com/users"},
        }
    if isinstance(field_, ChoiceInput):
        return {
            **base,
            "type": "Input.ChoiceSet",
            "isMultiSelect": field_.multiple,
            "isRequired": not field_.optional,
            "style": "expanded" if len(field_.choices) <= 5 else "compact",
            "choices": [
                {"title": choice.label, "value": choice.value} for choice in field_.choices
            ],
        }
    if isinstance(field_, RatingInput):

        def label(number: int) -> str:
            if number == 1 and field_.low_label:
                return f"1 — {field_.low_label}"
            if number == field_.scale and field_.high_label:
                return f"{number} — {field_.high_label}"
            return str(number)

        rating: dict[str, Any] = {
            **base,
            "type": "Input.ChoiceSet",
            "style": "expanded",
            "isRequired": True,
            "errorMessage": f"Choose 1 to {field_.scale}.",
            "choices": [
                {"title": label(number), "value": str(number)}
                for number in range(1, field_.scale + 1)
            ],
        }
        if field_.selected is not None:
            rating["value"] = str(field_.selected)
        return rating
    assert isinstance(field_, TextInput)
    text: dict[str, Any] = {
        **base,
        "type": "Input.Text",
        "isMultiline": field_.multiline,
        "isRequired": not field_.optional,
    }
    if field_.max_length:
        text["maxLength"] = field_.max_length
    if field_.placeholder:
        text["placeholder"] = field_.placeholder
    return text


def size_of(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def fit(card: dict[str, Any], limit: int = MAX_CARD_BYTES) -> dict[str, Any]:
    """Shorten long texts until the card is under `limit` bytes; inputs are never dropped."""
    longest = 4000
    while size_of(card) > limit and longest > 20:
        longest //= 2
        _shorten_texts(card, longest)
    return card


def _shorten_texts(node: Any, longest: int) -> None:
    if isinstance(node, dict):
        for key in ("text", "value", "fallbackText", "altText"):
            value = node.get(key)
            if isinstance(value, str) and len(value) > longest and node.get("type") != "mention":
                node[key] = value[: longest - 1].rsplit(" ", 1)[0] + "…"
        for child in node.values():
            if isinstance(child, dict | list):
                _shorten_texts(child, longest)
    elif isinstance(node, list):
        for child in node:
            _shorten_texts(child, longest)


# --- reading a submission back ---------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    form_id: str
    values: dict[str, object]
    context: dict[str, str]
    origin: str | None
    people: dict[str, list[str]]  # PeopleInput name → picked ids, still to be translated


def read_submission(value: object) -> Submission | None:
    """A card submit (`activity.value`) as form id, typed values and the form's context."""
    if not isinstance(value, dict):
        return None
    if ACTION_KEY in value:  # a button: the action names the use-case, its value is the input
        return Submission(
            form_id=str(value[ACTION_KEY]),
            values={"value": str(value.get(VALUE_KEY, ""))},
            context={},
            origin=None,
            people={},
        )
    form_id = value.get(FORM_KEY)
    if not isinstance(form_id, str):
        return None
    raw_context = value.get(CONTEXT_KEY)
    context = (
        {str(k): str(v) for k, v in raw_context.items()} if isinstance(raw_context, dict) else {}
    )
    kinds = value.get(KINDS_KEY)
    kinds = kinds if isinstance(kinds, dict) else {}
    values: dict[str, object] = {}
    people: dict[str, list[str]] = {}
    for name, kind in kinds.items():
        raw = value.get(name)
        if kind == PEOPLE:
            people[name] = _split(raw)
            values[name] = people[name]
        elif kind == CHOICES:
            values[name] = _split(raw)
        elif kind == RATING:
            text = str(raw).strip() if raw is not None else ""
            if text.isdigit():
                values[name] = int(text)
        else:
            values[name] = "" if raw is None else str(raw)
    origin = value.get(ORIGIN_KEY)
    return Submission(
        form_id=form_id,
        values=values,
        context=context,
        origin=origin if isinstance(origin, str) and origin else None,
        people=people,
    )


def _split(raw: object) -> list[str]:
    """Multi-select values arrive comma-separated."""
    if raw is None:
        return []
    if isinstance(raw, list):
        return [str(part).strip() for part in raw if str(part).strip()]
    return [part.strip() for part in str(raw).split(",") if part.strip()]
