"""The console as a platform: people appear when first mentioned, messages print as text."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from adapters.console.render import render
from bot.host import Delivery, PersonInfo
from bot.messages import Message, ReplyTo, ToChannel, ToPerson
from bot.ops.config import Config

WORKSPACE = "local"


def label(message: Message, viewer: str | None = None) -> str:
    audience = message.audience
    if isinstance(audience, ToChannel):
        return f"[#{audience.channel_id}]"
    if isinstance(audience, ToPerson):
        return f"[DM to @{audience.user_id}]"
    if isinstance(audience, ReplyTo) and audience.public:
        return "[reply]"
    return f"[only @{viewer} sees]" if viewer else "[only you see]"


def format_message(
    message: Message, viewer: str | None = None, *, edited: bool = False, terminal: bool = False
) -> str:
    lines = render(message, terminal)
    head = label(message, viewer) + (" (edited)" if edited else "")
    return "\n".join([f"{head} {lines[0]}", *(f"    {line}" for line in lines[1:])])


class ConsoleDirectory:
    """Anyone named exists; a handle ending in 'bot' is a bot."""

    def __init__(self, config: Config, channels: dict[str, set[str]]) -> None:
        self.config = config
        self.channels = channels

    async def person(self, user_id: str) -> PersonInfo | None:
        handle = user_id.lower()
        return PersonInfo(
            user_id=handle,
            display_name=handle,
            timezone=self.config.default_timezone,
            is_bot=handle.endswith("bot"),
        )

    async def channel_members(self, channel_id: str) -> list[str]:
        return sorted(self.channels.get(channel_id, set()))


def default_charts_dir() -> Path:
    return Path(tempfile.gettempdir()) / "kudos-pulse-charts"


class ConsoleSender:
    def __init__(
        self, out: Callable[[str], None], terminal: bool = False, charts_dir: Path | None = None
    ) -> None:
        self.out = out
        self.terminal = terminal
        self.charts_dir = charts_dir or default_charts_dir()
        self._sent = 0

    async def send(self, message: Message, *, key: str, replace_ref: str | None = None) -> Delivery:
        edited = replace_ref is not None
        shown = format_message(message, edited=edited, terminal=self.terminal)
        if message.thread_ref:  # a reply under an earlier post: say so after the channel
            head, _, rest = shown.partition("] ")
            shown = f"{head} ↳ thread] {rest}"
        saved = [f"    saved as {path}" for path in self.save_charts(message, key)]
        self.out("\n".join([shown, *saved]))
        self._sent += 1
        return Delivery(ref=f"console-{self._sent}")

    def save_charts(self, message: Message, key: str) -> list[Path]:
        """Each drawn chart as a PNG file (the console cannot show pictures)."""
        paths = []
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", key)[:80]
        for index, chart in enumerate(message.charts):
            if chart.png is None:
                continue  # not drawn: its text alternative is all there is
            self.charts_dir.mkdir(parents=True, exist_ok=True)
            path = self.charts_dir / f"{stem}-{index + 1}-{chart.filename}"
            path.write_bytes(chart.png)
            paths.append(path)
        return paths


class ConsolePlatform:
    name = "console"

    def __init__(
        self,
        config: Config,
        out: Callable[[str], None],
        terminal: bool = False,
        charts_dir: Path | None = None,
    ) -> None:
        """`terminal`: the output is a person's terminal (styled), not a pipe."""
        self.config = config
        self.terminal = terminal
        self.channels: dict[str, set[str]] = {}
        self._directory = ConsoleDirectory(config, self.channels)
        self._sender = ConsoleSender(out, terminal, charts_dir)

    def directory(self, workspace_external_id: str) -> ConsoleDirectory:
        return self._directory

    def sender(self, workspace_external_id: str) -> ConsoleSender:
        return self._sender

    def seen(self, channel: str, *handles: str) -> None:
        self.channels.setdefault(channel, set()).update(handle.lower() for handle in handles)
