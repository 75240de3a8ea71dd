"""`PulseSummaries` for the weekly digest: a team's recent rounds as anonymous aggregates."""

from __future__ import annotations

from datetime import datetime

from bot.config import Config
from bot.pulse_summary import RoundSummary
from bot.pulses.results import summarise
from storage.db import Database
from storage.repositories import pulses as repo


class StoredPulseSummaries:
    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config

    async def for_team(
        self, workspace_id: int, team_id: int, *, until: datetime, limit: int = 8
    ) -> list[RoundSummary]:
        summaries: list[RoundSummary] = []
        async with self.db.read() as session:
            for round_ in await repo.team_rounds(session, workspace_id, team_id, until, limit):
                assert round_.id is not None
                answers = await repo.responses(session, round_.id) if round_.closed else []
                result = summarise(round_.invited, answers, self.config.pulses.min_responses)
                responded = (
                    len(answers)
                    if round_.closed
                    else (await repo.response_counts(session, [round_.id])).get(round_.id, 0)
                )
                summaries.append(
                    RoundSummary(
                        round_id=round_.id,
                        schedule_id=round_.schedule_id,
                        subject=round_.subject,
                        scheduled_for=round_.scheduled_for,
                        closes_at=round_.closes_at,
                        closed=round_.closed,
                        invited=round_.invited,
                        responded=responded,
                        # Aggregates only once the round is closed: a changing open round would
                        # let someone watching it work out the latest answer.
                        shown=round_.closed and result.shown,
                        easy_mean=result.easy_mean,
                        value_mean=result.value_mean,
                        easy_favourable=result.easy_favourable,
                        value_favourable=result.value_favourable,
                    )
                )
        return summaries
