"""Slack OAuth: the installations of the app and the one-time `state` values of the redirect."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col, delete, select

from storage.models import SlackInstallation, SlackOAuthState
from storage.unit import Unit


async def add_installation(
    unit: Unit,
    *,
    client_id: str,
    enterprise_id: str,
    team_id: str,
    user_id: str,
    is_enterprise_install: bool,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """Installations are kept, not replaced: the latest one is the one in use."""
    unit.session.add(
        SlackInstallation(
            client_id=client_id,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
            data=data,
            installed_at=now,
        )
    )


def _installations(client_id: str, enterprise_id: str, team_id: str, user_id: str) -> list[Any]:
    """The conditions that pick an installation; a blank `user_id` matches any user."""
    conditions = [
        col(SlackInstallation.client_id) == client_id,
        col(SlackInstallation.enterprise_id) == enterprise_id,
        col(SlackInstallation.team_id) == team_id,
    ]
    if user_id:
        conditions.append(col(SlackInstallation.user_id) == user_id)
    return conditions


async def latest_installation(
    unit: Unit, client_id: str, enterprise_id: str, team_id: str, user_id: str
) -> dict[str, Any] | None:
    """The data of the newest matching installation, as it was saved."""
    statement = (
        select(SlackInstallation)
        .where(*_installations(client_id, enterprise_id, team_id, user_id))
        .order_by(col(SlackInstallation.installed_at).desc(), col(SlackInstallation.id).desc())
        .limit(1)
    )
    row = (await unit.session.exec(statement)).first()
    return None if row is None else row.data


async def installations_for(
    unit: Unit, client_id: str, scope: str, team_id: str
) -> list[SlackInstallation]:
    """Every installation that may serve a workspace record (`scope`: a Grid org or a team)
    or one team of it, newest first; which one serves is the caller's choice."""
    teams = {scope, team_id} - {""}
    statement = (
        select(SlackInstallation)
        .where(
            col(SlackInstallation.client_id) == client_id,
            or_(
                col(SlackInstallation.enterprise_id) == scope,
                col(SlackInstallation.team_id).in_(teams),
            ),
        )
        .order_by(col(SlackInstallation.installed_at).desc(), col(SlackInstallation.id).desc())
    )
    return list((await unit.session.exec(statement)).all())


async def all_installations(unit: Unit) -> list[SlackInstallation]:
    statement = select(SlackInstallation).order_by(col(SlackInstallation.id))
    return list((await unit.session.exec(statement)).all())


async def replace_data(unit: Unit, installation_id: int, data: dict[str, Any]) -> None:
    await unit.session.exec(
        update(SlackInstallation)
        .where(col(SlackInstallation.id) == installation_id)
        .values(data=data)
    )


async def delete_installations(
    unit: Unit, client_id: str, enterprise_id: str, team_id: str, user_id: str
) -> None:
    conditions = _installations(client_id, enterprise_id, team_id, user_id)
    await unit.session.exec(delete(SlackInstallation).where(*conditions))


async def add_state(unit: Unit, state: str, *, now: datetime, expires_at: datetime) -> None:
    """Store a new state, and drop the ones that expired by `now`."""
    await unit.session.exec(delete(SlackOAuthState).where(col(SlackOAuthState.expires_at) < now))
    unit.session.add(SlackOAuthState(state=state, expires_at=expires_at))


async def take_state(unit: Unit, state: str) -> datetime | None:
    """Delete the state (so it serves once); when it expires, or None if it was never issued."""
    row = await unit.session.get(SlackOAuthState, state)
    if row is None:
        return None
    await unit.session.delete(row)
    return row.expires_at
