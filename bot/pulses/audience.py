"""Who a pulse asks, resolved when it fires: a channel's members, a team, or listed people."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bot.ports import Directory
from storage.db import Database
from storage.models import Person, Team
from storage.repositories import pulses as repo


def describe(audience: dict[str, Any]) -> str:
    kind = audience["kind"]
    if kind == "channel":
        return f"#{audience['channel_id']}"
    if kind == "team":
        return f"team:{audience['name']}"
    users = audience["user_ids"]
    shown = ", ".join(f"@{user}" for user in users[:3])
    return shown + (f" and {len(users) - 3} more" if len(users) > 3 else "")


async def members(
    db: Database, directory: Directory, workspace_id: int, audience: dict[str, Any]
) -> list[str]:
    """Platform user ids to ask, without known bots or people who asked to be forgotten."""
    kind = audience["kind"]
    if kind == "channel":
        user_ids = await directory.channel_members(audience["channel_id"])
    elif kind == "team":
        async with db.read() as session:
            team = await session.get(Team, audience["team_id"])
            if team is None:
                return []
            if team.channel_id:
                user_ids = await directory.channel_members(team.channel_id)
            else:
                user_ids = await repo.team_member_ids(session, team.id or 0)
    else:
        user_ids = list(audience["user_ids"])
    unique = list(dict.fromkeys(user_ids))
    async with db.read() as session:
        excluded: set[str] = set()
        for start in range(0, len(unique), repo.CHUNK):
            statement = select(Person.external_id).where(
                Person.workspace_id == workspace_id,
                col(Person.external_id).in_(unique[start : start + repo.CHUNK]),
                col(Person.is_bot) | col(Person.forgotten_at).is_not(None),
            )
            excluded.update((await session.exec(statement)).all())
    return [user for user in unique if user not in excluded]
