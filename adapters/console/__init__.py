"""Console adapter: a local terminal chat on the same core (no platform account needed)."""

from __future__ import annotations

from collections.abc import Callable

from adapters.console.chat import ConsoleChat
from adapters.console.platform import ConsolePlatform
from bot.app import Application

__all__ = ["ConsoleChat", "ConsolePlatform", "install"]


def install(
    app: Application, out: Callable[[str], None] = print, terminal: bool = False
) -> ConsolePlatform:
    platform = ConsolePlatform(app.config, out, terminal)
    app.add_platform(platform)
    return platform
