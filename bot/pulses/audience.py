"""Who a pulse asks, resolved when it fires: a channel's members, a team, or listed people."""

from __future__ import annotations

from typing import Any

from bot.ports import Directory
from storage.db import Database
from storage.repositories import pulses as repo
from storage.repositories import teams


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
            team = await teams.get(session, audience["team_id"])
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
        excluded = await repo.not_to_ask(session, workspace_id, unique)
    return [user for user in unique if user not in excluded]
