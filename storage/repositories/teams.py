from __future__ import annotations

from sqlalchemy import delete, exists, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Person, Team, TeamMember


async def leads_person(
    session: AsyncSession, lead_id: int, workspace_id: int, member_external_id: str
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
    return bool((await session.exec(statement)).one())


async def find(session: AsyncSession, workspace_id: int, name: str) -> Team | None:
    statement = select(Team).where(Team.workspace_id == workspace_id, Team.name == name)
    return (await session.exec(statement)).first()


async def by_ids(session: AsyncSession, team_ids: list[int]) -> list[Team]:
    statement = select(Team).where(col(Team.id).in_(team_ids)).order_by(col(Team.id))
    return list((await session.exec(statement)).all())


async def in_workspace(session: AsyncSession, workspace_id: int) -> list[Team]:
    statement = select(Team).where(Team.workspace_id == workspace_id).order_by(col(Team.name))
    return list((await session.exec(statement)).all())


async def led_by(session: AsyncSession, workspace_id: int, lead_id: int) -> list[Team]:
    statement = (
        select(Team)
        .where(Team.workspace_id == workspace_id, Team.lead_id == lead_id)
        .order_by(col(Team.name))
    )
    return list((await session.exec(statement)).all())


async def member_counts(session: AsyncSession, team_ids: list[int]) -> dict[int, int]:
    if not team_ids:
        return {}
    statement = (
        select(TeamMember.team_id, func.count())
        .where(col(TeamMember.team_id).in_(team_ids))
        .group_by(col(TeamMember.team_id))
    )
    return {team_id: n for team_id, n in (await session.exec(statement)).all()}


async def members(session: AsyncSession, team_id: int) -> list[Person]:
    statement = (
        select(Person)
        .join(TeamMember, col(TeamMember.person_id) == Person.id)
        .where(TeamMember.team_id == team_id)
        .order_by(col(Person.display_name), col(Person.external_id))
    )
    return list((await session.exec(statement)).all())


async def add_members(session: AsyncSession, team_id: int, person_ids: list[int]) -> int:
    """Insert the memberships that are missing (one statement); returns how many were new."""
    if not person_ids:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(TeamMember)
        .values([{"team_id": team_id, "person_id": person_id} for person_id in person_ids])
        .on_conflict_do_nothing(index_elements=["team_id", "person_id"])
    )
    result = await session.exec(statement)
    return result.rowcount or 0


async def remove_members(session: AsyncSession, team_id: int, person_ids: list[int]) -> int:
    if not person_ids:
        return 0
    result = await session.exec(
        delete(TeamMember).where(
            col(TeamMember.team_id) == team_id, col(TeamMember.person_id).in_(person_ids)
        )
    )
    return result.rowcount or 0


async def replace_members(session: AsyncSession, team_id: int, person_ids: list[int]) -> None:
    """Make the stored membership exactly `person_ids` (a channel-backed team's cache)."""
    removed = delete(TeamMember).where(col(TeamMember.team_id) == team_id)
    if person_ids:
        removed = removed.where(col(TeamMember.person_id).not_in(person_ids))
    await session.exec(removed)
    await add_members(session, team_id, person_ids)
