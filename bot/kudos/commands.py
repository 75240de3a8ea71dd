"""What a user asked of kudos (and of /help), independent of the platform it was typed on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

Period = Literal["week", "month", "quarter"]


@dataclass(frozen=True)
class GiveKudos:
    recipients: tuple[str, ...]
    reason: str
    tags: tuple[str, ...] = ()
    # The platform's id for this invocation, set by the core: the kudos stores it (exactly once).
    dedupe_key: str | None = None


@dataclass(frozen=True)
class OpenKudosForm:
    pass


@dataclass(frozen=True)
class UndoKudos:
    pass


@dataclass(frozen=True)
class ShowStats:
    user_id: str | None = None


@dataclass(frozen=True)
class ShowTop:
    period: Period = "month"


@dataclass(frozen=True)
class ShowHelp:
    kind: ClassVar[str] = "help"
    topic: str = "kudos"


@dataclass(frozen=True)
class KudosForReaction:
    """The configured reaction on a message gives kudos to its author."""

    kind: ClassVar[str] = "reaction"
    author_id: str
    message_text: str
    message_ref: str
    event_key: str


@dataclass(frozen=True)
class RevokeReactionKudos:
    """The reaction was removed: the kudos it gave is withdrawn."""

    kind: ClassVar[str] = "reaction"
    message_ref: str


@dataclass(frozen=True)
class KudosSettings:
    """`/kudos settings [celebrate here|channel #x|nowhere | dms on|off]` (admins change them;
    anyone may look)."""

    setting: Literal["celebrate", "dms"] | None = None
    value: str = ""
    channel_id: str | None = None


@dataclass(frozen=True)
class SetNotify:
    """`/kudos notify off|on`: a person's own switch for kudos DMs (never pulse questions)."""

    on: bool


KudosCommand = (
    GiveKudos
    | OpenKudosForm
    | UndoKudos
    | ShowStats
    | ShowTop
    | ShowHelp
    | KudosSettings
    | SetNotify
)
