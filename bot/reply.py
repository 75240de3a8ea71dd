"""What the core hands back to an adapter after a command."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import Message, private_reply


@dataclass(frozen=True)
class Reply:
    """Messages for the adapter to show now; `field_errors` are per-input problems of a form."""

    messages: list[Message] = field(default_factory=list)
    field_errors: dict[str, str] = field(default_factory=dict)
    ok: bool = True

    @classmethod
    def private(cls, text: str) -> Reply:
        return cls(messages=[private_reply(text)])

    @classmethod
    def refused(cls, text: str, field_name: str | None = None) -> Reply:
        errors = {field_name: text} if field_name else {}
        return cls(messages=[private_reply(text)], field_errors=errors, ok=False)


class Refused(Exception):
    """A rule said no. The message is for the user; `field` names the form input at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def reply(self) -> Reply:
        return Reply.refused(self.message, self.field)
