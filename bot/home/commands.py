"""What a user asked of the home (parsed by grammar.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShowHome:
    """`home`, or the platform opening the person's home (Slack's App Home tab)."""


@dataclass(frozen=True)
class RefreshHome:
    """The home shown again after the person's own action (an answer, a kudos). Registered as
    anonymous: it runs with a read-only caller, so nothing is written beside the person in a
    request that may carry a pulse answer."""


HomeCommand = ShowHome | RefreshHome
