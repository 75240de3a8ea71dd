"""Who a pulse asks, resolved when it fires: a channel's members, a team, or listed people."""

from __future__ import annotations

from typing import Any

from bot.host import Directory
from bot.messages import Mention, Span, Text, plain_text
from storage.db import Database
from storage.repositories import people, teams
from storage.repositories import pulses as repo

# Listed people named in a confirmation; the rest are counted.
NAMED = 3


def describe(audience: dict[str, Any]) -> str:
    """The audience in plain text (people by id), for lists and fallbacks."""
    return plain_text(_spans(audience, {}))


async def describe_spans(db: Database, workspace_id: int, audience: dict[str, Any]) -> list[Span]:
    """The audience for a confirmation: listed people as mentions, under the names we know,
    so nobody reads a raw platform id."""
    names: dict[str, str] = {}
    if audience["kind"] == "users":
        async with db.read() as session:
            found = await people.find_many(session, workspace_id, audience["user_ids"][:NAMED])
        names = {external_id: person.display_name for external_id, person in found.items()}
    return _spans(audience, names)


def _spans(audience: dict[str, Any], names: dict[str, str]) -> list[Span]:
    kind = audience["kind"]
    if kind == "channel":
        return [Text(text=f"#{audience['channel_id']}")]
    if kind == "team":
        return [Text(text=f"team:{audience['name']}")]
    users = audience["user_ids"]
    spans: list[Span] = []
    for index, user in enumerate(users[:NAMED]):
        if index:
            spans.append(Text(text=", "))
        spans.append(Mention(user_id=user, name=names.get(user, "")))
    if len(users) > NAMED:
        spans.append(Text(text=f" and {len(users) - NAMED} more"))
    return spans


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
