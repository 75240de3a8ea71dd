"""Wires weekly digests into the bot: `/digest …` and the scheduled firing."""

from __future__ import annotations

from bot.digests.commands import (
    CancelDigest,
    DigestHelp,
    DigestNow,
    EmptyWeeks,
    ListDigests,
    ScheduleDigest,
)
from bot.digests.grammar import PARSERS
from bot.digests.service import DigestService
from bot.host import Host
from bot.pulses.contract import PulseSummaries


def install(host: Host, pulse_summaries: PulseSummaries) -> DigestService:
    """`pulse_summaries`: the pulses feature's published contract (the only one digests read)."""
    service = DigestService(
        host.db,
        host.clock,
        host.config,
        host.people,
        host.platforms,
        host.wake_outbox,
        pulse_summaries,
    )
    host.register_parsers(PARSERS)
    host.register_command(ScheduleDigest, service.schedule)
    host.register_command(DigestNow, service.now)
    host.register_command(ListDigests, service.list)
    host.register_command(CancelDigest, service.cancel)
    host.register_command(DigestHelp, service.help)
    host.register_command(EmptyWeeks, service.empty_weeks)
    host.schedule_tick("digests", service.tick)
    return service
