"""`PulseSummaries` for the weekly digest: a team's recent rounds as anonymous aggregates."""

from __future__ import annotations

from datetime import datetime

from bot.ops.config import Config
from bot.pulses.contract import RoundSummary
from bot.pulses.rules import from_tally
from storage.db import Database
from storage.models import PulseRound
from storage.repositories import pulses as repo


class StoredPulseSummaries:
    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self.config = config

    async def for_team(
        self, workspace_id: int, team_id: int, *, until: datetime, limit: int = 8
    ) -> list[RoundSummary]:
        # One statement per team: a digest batch asks this for every team due.
        async with self.db.read() as session:
            rounds = await repo.team_rounds_tallied(session, workspace_id, team_id, until, limit)
        summaries: list[RoundSummary] = []
        for round_ in rounds:
            tally = round_.tally
            n = round_.responded or 0
            # Aggregates only for closed rounds the visibility gate let through (threshold and
            # differencing, bot/pulses/visibility.py); a hidden round is in no mean or trend.
            shown = round_.closed and bool(round_.scores_shown) and n > 0
            summaries.append(
                RoundSummary(
                    round_id=round_.id,
                    schedule_id=round_.schedule_id,
                    subject=round_.subject,
                    scheduled_for=round_.scheduled_for,
                    closes_at=round_.closes_at,
                    closed=round_.closed,
                    invited=round_.invited,
                    responded=n,
                    shown=shown,
                    # The same arithmetic as bot.pulses.rules.from_tally.
                    easy_mean=tally.easy_sum / n if shown else None,
                    value_mean=tally.value_sum / n if shown else None,
                    easy_favourable=tally.easy_favourable / n if shown else None,
                    value_favourable=tally.value_favourable / n if shown else None,
                )
            )
        return summaries


def summary_of(round_: PulseRound) -> RoundSummary:
    """One stored round as the contract's summary: aggregates only if the gate showed it."""
    assert round_.id is not None
    result = from_tally(
        round_.invited,
        round_.tally,
        shown=bool(round_.closed and round_.scores_shown),
        responded=round_.responded,
    )
    return RoundSummary(
        round_id=round_.id,
        schedule_id=round_.schedule_id,
        subject=round_.subject,
        scheduled_for=round_.scheduled_for,
        closes_at=round_.closes_at,
        closed=round_.closed,
        invited=round_.invited,
        responded=result.responded,
        shown=result.shown,
        easy_mean=result.easy_mean,
        value_mean=result.value_mean,
        easy_favourable=result.easy_favourable,
        value_favourable=result.value_favourable,
    )
