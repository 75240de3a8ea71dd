"""Wires pulses into the application: commands, the answer form, and the scheduler tick."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.pulses.commands import (
    AnswerPulse,
    ChangePulse,
    ListPulses,
    PulseHelp,
    PulseNow,
    PulseResults,
    SchedulePulse,
)
from bot.pulses.messages import PULSE_FORM, help_message
from bot.pulses.rounds import Rounds
from bot.pulses.service import PulseService
from bot.pulses.summaries import StoredPulseSummaries
from bot.reply import Reply

if TYPE_CHECKING:
    from bot.app import Application


@dataclass(frozen=True)
class Pulses:
    service: PulseService
    rounds: Rounds
    summaries: StoredPulseSummaries


def install(app: Application) -> Pulses:
    core = app.core
    rounds = Rounds(app.db, app.clock, app.config, app.platforms, app.outbox.wake.set)
    service = PulseService(app.db, app.clock, app.config, rounds)

    async def show_help(_caller: Any, _command: PulseHelp) -> Reply:
        return Reply(messages=[help_message(app.config)])

    core.register_command(SchedulePulse, service.schedule)
    core.register_command(PulseNow, service.now)
    core.register_command(ListPulses, lambda caller, _command: service.list(caller))
    core.register_command(ChangePulse, service.change)
    core.register_command(PulseResults, service.results)
    core.register_command(PulseHelp, show_help)
    core.register_command(AnswerPulse, service.answer)
    core.register_form(PULSE_FORM, service.answer_form)
    app.scheduler.register("pulses", rounds.tick)
    return Pulses(
        service=service, rounds=rounds, summaries=StoredPulseSummaries(app.db, app.config)
    )
