"""Anonymous aggregate rows for `kudos-pulse export pulses`: one per closed round the visibility
gate shows (bot/pulses/visibility.py). No person, respondent tag or comment is ever exported."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

from bot.pulses.rules import from_tally
from storage.db import Database
from storage.models import Workspace
from storage.repositories import pulses as repo
from storage.repositories import workspaces as workspace_rows

# The columns, in order: an export with no round to show still names them.
FIELDS = (
    "round_id",
    "schedule_id",
    "workspace",
    "platform",
    "team_id",
    "subject",
    "scheduled_for",
    "closes_at",
    "invited",
    "responded",
    "response_rate",
    "easy_mean",
    "value_mean",
    "easy_favourable",
    "value_favourable",
    "easy_and_valuable",
    "easy_only",
    "valuable_only",
    "neither",
)


async def export_rows(
    db: Database,
    *,
    since: datetime | None,
    workspace_id: int | None,
) -> AsyncIterator[dict[str, object]]:
    async with db.read() as session:
        rounds = await repo.closed_rounds(session, since, workspace_id)
        workspaces: dict[int, Workspace | None] = {}
        for round_ in rounds:
            assert round_.id is not None
            result = from_tally(round_.invited, round_.tally, shown=bool(round_.scores_shown))
            if not result.shown or result.quadrants is None:
                continue
            if round_.workspace_id not in workspaces:
                found = await workspace_rows.get(session, round_.workspace_id)
                workspaces[round_.workspace_id] = found
            workspace = workspaces[round_.workspace_id]
            yield {
                "round_id": round_.id,
                "schedule_id": round_.schedule_id,
                "workspace": workspace.external_id if workspace else "",
                "platform": workspace.platform if workspace else "",
                "team_id": round_.team_id,
                "subject": round_.subject,
                "scheduled_for": round_.scheduled_for.isoformat(),
                "closes_at": round_.closes_at.isoformat(),
                "invited": result.invited,
                "responded": result.responded,
                "response_rate": round(result.response_rate, 4),
                "easy_mean": round(result.easy_mean or 0, 3),
                "value_mean": round(result.value_mean or 0, 3),
                "easy_favourable": round(result.easy_favourable or 0, 4),
                "value_favourable": round(result.value_favourable or 0, 4),
                "easy_and_valuable": result.quadrants.easy_and_valuable,
                "easy_only": result.quadrants.easy_only,
                "valuable_only": result.quadrants.valuable_only,
                "neither": result.quadrants.neither,
            }
