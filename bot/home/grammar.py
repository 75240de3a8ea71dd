"""Typed text → home commands: `home`."""

from __future__ import annotations

from bot.home.commands import HomeCommand, ShowHome
from bot.lexicon import ParseError


def parse_home(args: str) -> HomeCommand:
    if args.strip():
        raise ParseError("Just type `home` to see your kudos, your pulses and what you can do.")
    return ShowHome()


PARSERS = {"home": parse_home}
