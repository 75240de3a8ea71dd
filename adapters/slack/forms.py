"""Reading a submitted form back: Slack's `state.values` → the core's input values.

`blockkit.py` names every input block after its input and every element after the input's
kind, so this works for any form without knowing which one it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.lexicon import typed_number


@dataclass(frozen=True)
class Submission:
    form_id: str
    context: dict[str, str] = field(default_factory=dict)
    channel_id: str | None = None


def read_values(state_values: dict[str, Any]) -> dict[str, object]:
    """{block_id: {action_id: element state}} → {input name: value} per the form contract."""
    values: dict[str, object] = {}
    for name, elements in state_values.items():
        for kind, state in elements.items():
            if kind in {"people_input", "choice_input", "rating_input", "text_input"}:
                values[name] = _value(kind, state)
    return values


def _value(kind: str, state: dict[str, Any]) -> object:
    element = state.get("type")
    if element == "multi_users_select":
        return list(state.get("selected_users") or [])
    if element == "users_select":
        user = state.get("selected_user")
        return [user] if user else []
    if element in {"checkboxes", "multi_static_select"}:
        return [option["value"] for option in state.get("selected_options") or []]
    if element in {"radio_buttons", "static_select"}:
        option = state.get("selected_option") or {}
        value = option.get("value")
        if kind == "rating_input":
            return typed_number(value, 1, 5) if isinstance(value, str) else None
        return value
    if element == "plain_text_input":
        return state.get("value") or ""
    return state.get("value")


def read_button(value: str) -> Submission | None:
    """The submit button's value of an inline form."""
    data = _json(value)
    if not isinstance(data.get("f"), str):
        return None
    return Submission(form_id=data["f"], context=_context(data.get("c")))


def read_metadata(private_metadata: str) -> Submission | None:
    """A modal's private_metadata."""
    data = _json(private_metadata)
    if not isinstance(data.get("f"), str):
        return None
    return Submission(
        form_id=data["f"], context=_context(data.get("c")), channel_id=data.get("ch") or None
    )


def read_plain_button(value: str) -> tuple[str, str] | None:
    data = _json(value)
    if not isinstance(data.get("a"), str):
        return None
    return data["a"], str(data.get("v", ""))


def _json(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _context(raw: object) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(key): str(value) for key, value in raw.items()}
