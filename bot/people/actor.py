"""Who is asking, and what they may do. Authorization decisions live here."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.ops.config import Config
from bot.people.lookup import Directory
from storage.models import Person, Workspace


@dataclass(frozen=True)
class Actor:
    """The platform's view of the person behind an event, as an adapter saw it.

    `workspace_id` is the scope a person is identified in, and the data boundary: the Slack
    Enterprise Grid org id when the payload carries one, else the workspace (team) id, the
    Teams tenant or the console. (platform, workspace_id, user_id) is the stable platform
    identity: one org user acting from two workspaces of the org is one person.
    `team_id` and `enterprise_id` say where exactly the person acted (for per-workspace
    settings and for tokens); outside Grid `team_id == workspace_id` and `enterprise_id` is
    blank."""

    platform: str
    workspace_id: str
    user_id: str
    channel_id: str | None = None
    display_name: str = ""
    is_platform_admin: bool = False
    timezone: str | None = None
    workspace_name: str = ""
    team_id: str = ""
    enterprise_id: str = ""
    # The payload shows a person of another organisation (Slack Connect): outside the boundary.
    is_external: bool = False


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


def is_admin(config: Config, person: Person, actor: Actor, *, first_workspace: bool) -> bool:
    """Platform admins (Slack admins and owners), and the people `admins:` lists for the
    actor's workspace. `first_workspace`: the actor's workspace is the first of its platform
    the bot came to know — the one place a plain list (not keyed by workspace) applies."""
    if actor.is_platform_admin or person.is_platform_admin:
        return True
    return person.external_id.lower() in listed_admins(config, actor, first_workspace)


def listed_admins(config: Config, actor: Actor, first_workspace: bool) -> set[str]:
    """The user ids (lower case) `admins:` makes admins where `actor` is."""
    if isinstance(config.admins, dict):
        keys = {key.lower() for key in admin_scopes(actor)}
        return {
            entry.lower()
            for scope, entries in config.admins.items()
            if scope.lower() in keys
            for entry in entries
        }
    # A plain list names people without saying where. It was written for a single-workspace
    # install, so it keeps meaning that workspace — the first the bot knew — and makes nobody
    # an admin in a workspace installed later (where a listed id may belong to a mere member:
    # Enterprise Grid shares user ids across workspaces). `check` warns about it.
    return {entry.lower() for entry in config.admins} if first_workspace else set()


def admin_scopes(actor: Actor) -> tuple[str, ...]:
    """The `admins:` keys that count for `actor`: the workspace they acted in (Slack team id,
    Teams tenant id, `local` in the console) and, in an Enterprise Grid org, the org id (an
    admin listed under the org is an admin in every workspace of it)."""
    keys = (actor.team_id, actor.workspace_id, actor.enterprise_id)
    return tuple(dict.fromkeys(key for key in keys if key))


def plain_listed(config: Config, person: Person) -> bool:
    """Whether a plain `admins:` list names `person` (only then does it matter which
    workspace the bot knew first)."""
    return isinstance(config.admins, list) and person.external_id.lower() in {
        entry.lower() for entry in config.admins
    }


def zone_of(person: Person, config: Config) -> ZoneInfo:
    for name in (person.timezone, config.default_timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")
