"""What the core asks a chat platform about people: the Directory port and what it answers.

It lives with `bot.people` (which resolves every caller through it) rather than in `bot.host`,
which re-exports it, so the host's contract can name `People` without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PersonInfo:
    user_id: str
    display_name: str
    timezone: str | None = None
    is_bot: bool = False
    is_admin: bool = False
    # Of another organisation (a Slack Connect guest): kept out of kudos, stats and pulses.
    is_external: bool = False
    # Where the platform gives one: kept only as a keyed digest, for erasure by address.
    email: str | None = None


class Directory(Protocol):
    """People and channels of one workspace."""

    async def person(self, user_id: str) -> PersonInfo | None: ...

    async def channel_members(self, channel_id: str) -> list[str]: ...
