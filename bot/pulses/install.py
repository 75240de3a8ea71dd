"""Wires pulses into the application: commands, the answer form, and the scheduler tick."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.host import Host
from bot.messages import Reply
from bot.ops.keys import FingerprintCheck, load_keyring
from bot.pulses.ballot import BallotBox
from bot.pulses.commands import (
    AnswerPulse,
    CancelRound,
    ChangePulse,
    ClosePulse,
    ListPulses,
    PulseHelp,
    PulseNow,
    PulseResults,
    SchedulePulse,
)
from bot.pulses.glance import StoredPulseGlance
from bot.pulses.grammar import PARSERS
from bot.pulses.messages import PULSE_FORM, help_message
from bot.pulses.rounds import Rounds
from bot.pulses.service import PulseService
from bot.pulses.summaries import StoredPulseSummaries


@dataclass(frozen=True)
class Pulses:
    service: PulseService
    rounds: Rounds
    summaries: StoredPulseSummaries
    glance: StoredPulseGlance


def install(host: Host) -> Pulses:
    # The key never lives in the database: the environment, or a key file made on first run.
    box = BallotBox(load_keyring(host.config, create=True))
    key_check = FingerprintCheck(host.db, box.keyring)
    rounds = Rounds(
        host.db, host.clock, host.config, host.platforms, host.wake_outbox, box, key_check
    )
    service = PulseService(host.db, host.clock, host.config, rounds, box, key_check)

    async def show_help(_caller: Any, _command: PulseHelp) -> Reply:
        return Reply(messages=[help_message(host.config)])

    host.register_parsers(PARSERS)
    host.register_command(SchedulePulse, service.schedule)
    host.register_command(PulseNow, service.now)
    host.register_command(ListPulses, lambda caller, _command: service.list(caller))
    host.register_command(ChangePulse, service.change)
    host.register_command(ClosePulse, service.close)
    host.register_command(CancelRound, service.cancel_round)
    host.register_command(PulseResults, service.results)
    host.register_command(PulseHelp, show_help)
    host.register_command(AnswerPulse, service.answer, anonymous=True)
    host.register_form(PULSE_FORM, service.answer_form, anonymous=True)
    host.schedule_tick("pulses", rounds.tick)
    return Pulses(
        service=service,
        rounds=rounds,
        summaries=StoredPulseSummaries(host.db, host.config),
        glance=StoredPulseGlance(host.db, host.clock, host.config, rounds, box),
    )
