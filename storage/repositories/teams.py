from __future__ import annotations

from sqlalchemy import exists
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
