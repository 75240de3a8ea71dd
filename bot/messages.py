"""The neutral outgoing message model every adapter renders.

Messages are pydantic models so they can wait in the outbox as JSON and come back intact.
User-written text only ever travels in `Text` spans; adapters escape those, and insert real
mentions only for `Mention` spans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.lexicon import neutralise_pings


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- inline spans -----------------------------------------------------------------------------


class Text(_Model):
    kind: Literal["text"] = "text"
    text: str


class Strong(_Model):
    kind: Literal["strong"] = "strong"
    text: str


class Mention(_Model):
    """A real mention of a person, by platform user id."""

    kind: Literal["mention"] = "mention"
    user_id: str
    name: str = ""


class ChannelLink(_Model):
    kind: Literal["channel"] = "channel"
    channel_id: str
    name: str = ""


Span = Annotated[Text | Strong | Mention | ChannelLink, Field(discriminator="kind")]


# --- blocks -----------------------------------------------------------------------------------


class Header(_Model):
    kind: Literal["header"] = "header"
    text: str


class Section(_Model):
    kind: Literal["section"] = "section"
    spans: list[Span]


class Quote(_Model):
    """User-written text shown as a quotation (a kudos reason, a pulse comment)."""

    kind: Literal["quote"] = "quote"
    text: str


class Fields(_Model):
    """Label/value pairs shown side by side."""

    kind: Literal["fields"] = "fields"
    items: list[tuple[str, str]]


class Context(_Model):
    """Small print under a message."""

    kind: Literal["context"] = "context"
    spans: list[Span]


class Divider(_Model):
    kind: Literal["divider"] = "divider"


class Button(_Model):
    action: str
    label: str
    value: str = ""
    style: Literal["default", "primary", "danger"] = "default"


class Buttons(_Model):
    kind: Literal["buttons"] = "buttons"
    buttons: list[Button]


class Choice(_Model):
    value: str
    label: str


class PeopleInput(_Model):
    kind: Literal["people_input"] = "people_input"
    name: str
    label: str
    multiple: bool = True


class ChoiceInput(_Model):
    kind: Literal["choice_input"] = "choice_input"
    name: str
    label: str
    choices: list[Choice]
    multiple: bool = False
    optional: bool = False


class RatingInput(_Model):
    """A 1..scale rating, e.g. EASY from 1 (hard) to 5 (very easy)."""

    kind: Literal["rating_input"] = "rating_input"
    name: str
    label: str
    low_label: str = ""
    high_label: str = ""
    scale: int = 5
    selected: int | None = None


class TextInput(_Model):
    kind: Literal["text_input"] = "text_input"
    name: str
    label: str
    multiline: bool = False
    optional: bool = False
    max_length: int | None = None
    placeholder: str = ""


Input = Annotated[PeopleInput | ChoiceInput | RatingInput | TextInput, Field(discriminator="kind")]


class Form(_Model):
    """A set of inputs submitted together (Slack modal or blocks; Teams Adaptive Card).

    `form_id` tells the core which use-case receives the submission; `context` carries the
    few values it needs back (e.g. a pulse round id). `text_hint` is how to do the same by
    typing, for adapters without forms.
    """

    kind: Literal["form"] = "form"
    form_id: str
    title: str
    submit_label: str
    inputs: list[Input]
    context: dict[str, str] = Field(default_factory=dict)
    text_hint: str = ""
    modal: bool = False


class ChartPoint(_Model):
    """One change on the EASY × VALUE map: its subject, mean EASY (x), mean VALUE (y), answers."""

    label: str
    x: float
    y: float
    size: int = 0


class ChartSeries(_Model):
    """One line or bar series; None where a value may not be shown (a hidden round)."""

    name: str
    values: list[float | None]


ChartKind = Literal["easy_value_map", "pulse_trend", "kudos_weeks"]


class Chart(_Model):
    """A picture as data: adapters show the rendered PNG, or `alt` where there is none.

    Only aggregates the visibility gate let through ever become points or values. The PNG is
    attached by the outbox just before delivery and never stored with the queued message."""

    kind: Literal["chart"] = "chart"
    chart: ChartKind
    title: str
    # The text alternative: what the picture says, in words (screen readers, text fallback).
    alt: str
    categories: list[str] = Field(default_factory=list)
    series: list[ChartSeries] = Field(default_factory=list)
    points: list[ChartPoint] = Field(default_factory=list)
    png: bytes | None = Field(default=None, exclude=True, repr=False)

    @property
    def filename(self) -> str:
        return f"{self.chart.replace('_', '-')}.png"


Block = Annotated[
    Header | Section | Quote | Fields | Context | Divider | Buttons | Form | Chart,
    Field(discriminator="kind"),
]


# --- audiences --------------------------------------------------------------------------------


class ReplyTo(_Model):
    """Back to whoever issued the command, where they issued it. Private unless public=True."""

    kind: Literal["reply"] = "reply"
    public: bool = False


class ToChannel(_Model):
    kind: Literal["channel"] = "channel"
    channel_id: str


class ToPerson(_Model):
    """A direct message to one person."""

    kind: Literal["direct"] = "direct"
    user_id: str


Audience = Annotated[ReplyTo | ToChannel | ToPerson, Field(discriminator="kind")]


class Message(_Model):
    audience: Audience
    # Plain summary: the notification text and the fallback where blocks cannot be shown.
    text: str
    blocks: list[Block] = Field(default_factory=list)
    # Outbox key of an earlier message this one replaces (edit in place where supported).
    replaces: str | None = None
    # Outbox key of an earlier post this one goes under, as a thread reply (e.g. a celebration
    # under the day's kudos post); the outbox fills `thread_ref` with that post's platform ref.
    thread_of: str | None = None
    thread_ref: str | None = None
    # A person's own home: Slack publishes it as their App Home tab, Teams keeps the card
    # current for whoever views it (a user-specific refresh).
    home: bool = False

    @property
    def form(self) -> Form | None:
        return next((block for block in self.blocks if isinstance(block, Form)), None)

    @property
    def charts(self) -> list[Chart]:
        return [block for block in self.blocks if isinstance(block, Chart)]


def private_reply(text: str, *blocks: Block) -> Message:
    return Message(audience=ReplyTo(), text=text, blocks=list(blocks))


def people_list(mentions: list[Mention]) -> list[Span]:
    """`@a`, `@a and @b`, `@a, @b and @c` as spans."""
    spans: list[Span] = []
    for index, mention in enumerate(mentions):
        if index:
            spans.append(Text(text=" and " if index == len(mentions) - 1 else ", "))
        spans.append(mention)
    return spans


def plain_text(spans: list[Span]) -> str:
    """A span list as plain text (names for mentions), for summaries and fallbacks."""
    parts: list[str] = []
    for span in spans:
        if isinstance(span, Mention):
            # A person named "here" is no broadcast: names are user text, too.
            parts.append(neutralise_pings(f"@{span.name or span.user_id}"))
        elif isinstance(span, ChannelLink):
            parts.append(f"#{span.name or span.channel_id}")
        else:
            parts.append(span.text)
    return "".join(parts)


# --- what the core hands back to an adapter after a command ------------------------------------


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
