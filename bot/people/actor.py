"""Who is asking, and what they may do. Authorization decisions live here."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.ops.config import Config
from bot.people.lookup import Directory
from storage.models import Person, Workspace


@dataclass(frozen=True)
class Actor:
    """The platform's view of the person behind an event, as an adapter saw it."""

    platform: str
    workspace_id: str
    user_id: str
    channel_id: str | None = None
    display_name: str = ""
    is_platform_admin: bool = False
    timezone: str | None = None
    workspace_name: str = ""


@dataclass(frozen=True)
class Caller:
    """An actor resolved against our records."""

    actor: Actor
    workspace: Workspace
    person: Person
    directory: Directory
    is_admin: bool

    @property
    def workspace_id(self) -> int:
        assert self.workspace.id is not None
        return self.workspace.id

    @property
    def person_id(self) -> int:
        assert self.person.id is not None
        return self.person.id


def is_admin(config: Config, person: Person, actor: Actor) -> bool:
    listed = {entry.lower() for entry in config.admins}
    return (
        actor.is_platform_admin or person.is_platform_admin or person.external_id.lower() in listed
    )


def zone_of(person: Person, config: Config) -> ZoneInfo:
    for name in (person.timezone, config.default_timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")
