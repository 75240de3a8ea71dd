"""Wires the home into the application: the `home` word, its buttons, the refresh."""

from __future__ import annotations

from collections.abc import Mapping

from bot.home import messages, rules
from bot.home.commands import RefreshHome, ShowHome
from bot.home.grammar import PARSERS
from bot.home.service import HomeService
from bot.host import Host
from bot.messages import Reply
from bot.people.actor import Caller
from bot.pulses.contract import PulseGlance, PulseSummaries


def install(host: Host, pulses: PulseGlance, summaries: PulseSummaries) -> HomeService:
    """`pulses`, `summaries`: what the home may read of pulses (what waits for the person, a
    lead's teams' gated results), handed over by the composition root."""
    service = HomeService(host.db, host.clock, host.config, pulses, summaries)

    async def run(
        caller: Caller, values: Mapping[str, object], _context: Mapping[str, str], _key: str | None
    ) -> Reply:
        """A home button standing for a typed command (give kudos, pause, close …): run as
        the person would type it, so the owning feature checks who may do it."""
        text = str(values.get("value", "")).strip()
        if not rules.may_run(text):
            return Reply.refused("That button is no longer in use. Type `home` for a fresh one.")
        return await host.run_text(caller, text)

    async def refresh(
        caller: Caller, _values: Mapping[str, object], _context: Mapping[str, str], _key: str | None
    ) -> Reply:
        return await service.show(caller)

    host.register_parsers(PARSERS)
    host.register_command(ShowHome, service.show)
    # Read-only callers: the home shown again after a pulse answer writes nothing (PRIVACY.md).
    host.register_command(RefreshHome, service.show, anonymous=True)
    host.register_form(messages.RUN, run)
    host.register_form(messages.ANSWER, service.answer, anonymous=True)
    host.register_form(messages.REFRESH, refresh, anonymous=True)
    return service
