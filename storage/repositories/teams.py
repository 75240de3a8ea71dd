from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, update
from sqlmodel import col, select

from storage.models import Person, Team, TeamMember
from storage.repositories.sql import insert_statement
from storage.unit import Unit


async def leads_person(
    unit: Unit, lead_id: int, workspace_id: int, member_external_id: str
) -> bool:
    """Whether `lead_id` leads a team that `member_external_id` belongs to."""
    statement = select(
        exists().where(
            Team.lead_id == lead_id,
            Team.workspace_id == workspace_id,
            col(TeamMember.team_id) == Team.id,
            col(TeamMember.person_id) == Person.id,
            Person.external_id == member_external_id,
            Person.workspace_id == workspace_id,
        )
    )
    return bool((await unit.session.exec(statement)).one())


async def create(
    unit: Unit,
    *,
    workspace_id: int,
    name: str,
    lead_id: int | None,
    channel_id: str | None,
    now: datetime,
) -> Team:
    """A new team with its id; `Duplicate` (when the transaction ends) if the name is taken."""
    team = Team(
        workspace_id=workspace_id, name=name, lead_id=lead_id, channel_id=channel_id, created_at=now
    )
    unit.session.add(team)
    await unit.session.flush()
    return team


async def get(unit: Unit, team_id: int) -> Team | None:
    return await unit.session.get(Team, team_id)


async def set_lead(unit: Unit, team_id: int, lead_id: int | None) -> None:
    await unit.session.exec(update(Team).where(col(Team.id) == team_id).values(lead_id=lead_id))


async def find(unit: Unit, workspace_id: int, name: str) -> Team | None:
    statement = select(Team).where(Team.workspace_id == workspace_id, Team.name == name)
    return (await unit.session.exec(statement)).first()


async def by_ids(unit: Unit, team_ids: list[int]) -> list[Team]:
    statement = select(Team).where(col(Team.id).in_(team_ids)).order_by(col(Team.id))
    return list((await unit.session.exec(statement)).all())


async def in_workspace(unit: Unit, workspace_id: int) -> list[Team]:
    statement = select(Team).where(Team.workspace_id == workspace_id).order_by(col(Team.name))
    return list((await unit.session.exec(statement)).all())


async def led_by(unit: Unit, workspace_id: int, lead_id: int) -> list[Team]:
    statement = (
        select(Team)
        .where(Team.workspace_id == workspace_id, Team.lead_id == lead_id)
        .order_by(col(Team.name))
    )
    return list((await unit.session.exec(statement)).all())


async def member_counts(unit: Unit, team_ids: list[int]) -> dict[int, int]:
    if not team_ids:
        return {}
    statement = (
        select(TeamMember.team_id, func.count())
        .where(col(TeamMember.team_id).in_(team_ids))
        .group_by(col(TeamMember.team_id))
    )
    return {team_id: n for team_id, n in (await unit.session.exec(statement)).all()}


async def members(unit: Unit, team_id: int) -> list[Person]:
    statement = (
        select(Person)
        .join(TeamMember, col(TeamMember.person_id) == Person.id)
        .where(TeamMember.team_id == team_id)
        .order_by(col(Person.display_name), col(Person.external_id))
    )
    return list((await unit.session.exec(statement)).all())


async def add_members(unit: Unit, team_id: int, person_ids: list[int]) -> int:
    """Insert the memberships that are missing (one statement); returns how many were new."""
    if not person_ids:
        return 0
    statement = (
        insert_statement(unit, TeamMember)
        .values([{"team_id": team_id, "person_id": person_id} for person_id in person_ids])
        .on_conflict_do_nothing(index_elements=["team_id", "person_id"])
    )
    result = await unit.session.exec(statement)
    return result.rowcount or 0


async def remove_members(unit: Unit, team_id: int, person_ids: list[int]) -> int:
    if not person_ids:
        return 0
    result = await unit.session.exec(
        delete(TeamMember).where(
            col(TeamMember.team_id) == team_id, col(TeamMember.person_id).in_(person_ids)
        )
    )
    return result.rowcount or 0


async def replace_members(unit: Unit, team_id: int, person_ids: list[int]) -> None:
    """Make the stored membership exactly `person_ids` (a channel-backed team's cache)."""
    removed = delete(TeamMember).where(col(TeamMember.team_id) == team_id)
    if person_ids:
        removed = removed.where(col(TeamMember.person_id).not_in(person_ids))
    await unit.session.exec(removed)
    await add_members(unit, team_id, person_ids)
