"""A scriptable in-memory platform for outbox tests (the real adapters have their own fakes)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from bot.host import Delivery, PersonInfo
from bot.messages import Message


@dataclass
class ScriptedPlatform:
    name: str = "console"
    # Outcomes to play back in order (an exception instance to raise); then successes.
    script: deque[Exception] = field(default_factory=deque)
    sent: list[tuple[str, Message, str | None]] = field(default_factory=list)
    delivered_keys: set[str] = field(default_factory=set)

    def directory(self, workspace_external_id: str) -> ScriptedPlatform:
        return self

    def sender(self, workspace_external_id: str) -> ScriptedPlatform:
        return self

    async def person(self, user_id: str) -> PersonInfo | None:
        return PersonInfo(user_id=user_id, display_name=user_id)

    async def channel_members(self, channel_id: str) -> list[str]:
        return []

    async def send(self, message: Message, *, key: str, replace_ref: str | None = None) -> Delivery:
        if self.script:
            raise self.script.popleft()
        self.sent.append((key, message, replace_ref))
        self.delivered_keys.add(key)
        return Delivery(ref=f"ref-{len(self.sent)}")

    async def find_delivered(self, key: str, **_where: object) -> Delivery | None:
        return Delivery(ref="found") if key in self.delivered_keys else None
