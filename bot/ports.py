"""What the core needs from a chat platform. Adapters implement these; the core never imports them.

(DESIGN.md suggested `adapters/base.py`; the ports live in `bot/` instead because the core
must name them and may not import from `adapters`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.messages import Message


@dataclass(frozen=True)
class PersonInfo:
    user_id: str
    display_name: str
    timezone: str | None = None
    is_bot: bool = False
    is_admin: bool = False
    # Of another organisation (a Slack Connect guest): kept out of kudos, stats and pulses.
    is_external: bool = False


@dataclass(frozen=True)
class Delivery:
    """The platform accepted the message; `ref` lets it be edited later (e.g. Slack's ts)."""

    ref: str | None = None


class DeliveryError(Exception):
    """Base of the outcomes a sender reports instead of `Delivery`."""


class RateLimited(DeliveryError):
    def __init__(self, retry_after: float, detail: str = "rate limited") -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TemporaryFailure(DeliveryError):
    """Worth trying again later (timeouts, 5xx, 412)."""


class OutcomeUnknown(TemporaryFailure):
    """A new post failed after the request may have reached the platform (a timeout or a
    dropped connection after sending, a 5xx): it may have been delivered. Its retry checks
    first (`FindsDelivered`) or, where the platform cannot tell, counts a blind resend."""


class PermanentFailure(DeliveryError):
    """Trying again cannot help (user gone, bot blocked, channel archived)."""


class CannotTell(DeliveryError):
    """A delivery check could not find out (no permission to read, too much to look through)."""


class Directory(Protocol):
    """People and channels of one workspace."""

    async def person(self, user_id: str) -> PersonInfo | None: ...

    async def channel_members(self, channel_id: str) -> list[str]: ...


class Sender(Protocol):
    """Delivers neutral messages into one workspace."""

    async def send(self, message: Message, *, key: str, replace_ref: str | None = None) -> Delivery:
        """Deliver `message`; `key` is its unique outbox key (platforms may tag the message with
        it so an in-doubt delivery can be recognised), `replace_ref` edits an earlier message."""
        ...


class FindsDelivered(Protocol):
    """Optional for a Sender: recognise a message an expired claim may already have delivered.

    The outbox asks before resending an in-doubt row. `message` is what would be sent (its
    audience names where to look), `since` a time no such delivery can predate. Answer None
    when it is certainly not there; raise `RateLimited` when it may be asked again later and
    `CannotTell` when it cannot say: the outbox then resends blindly (and counts it)."""

    async def find_delivered(
        self, key: str, *, message: Message, since: datetime | None = None
    ) -> Delivery | None: ...


class Platform(Protocol):
    """One chat platform as the core sees it, for any of its workspaces."""

    name: str

    def directory(self, workspace_external_id: str) -> Directory: ...

    def sender(self, workspace_external_id: str) -> Sender: ...
