from __future__ import annotations

from datetime import date, time

import pytest

from bot.app import parse
from bot.lexicon import ParseError
from bot.pulses.commands import (
    AnswerPulse,
    ChangePulse,
    ChannelAudience,
    Cron,
    Once,
    PulseNow,
    PulseResults,
    SchedulePulse,
    TeamAudience,
    UsersAudience,
    Weekly,
)


def test_schedule_with_every_zone_and_window() -> None:
    command = parse(
        '/pulse schedule "the new expense tool" to <#C42|finance> every mon, thu at 10:00 '
        "tz Europe/Berlin open 2d"
    )
    assert command == SchedulePulse(
        "the new expense tool",
        ChannelAudience("C42"),
        Weekly(("mon", "thu"), time(10, 0)),
        "Europe/Berlin",
        2880,
    )


def test_cron_team_people_and_once() -> None:
    cron = parse('/pulse schedule “standups” to team:Support cron "0 10 * * MON"')
    assert cron == SchedulePulse("standups", TeamAudience("support"), Cron("0 10 * * MON"))
    once = parse('/pulse schedule "offsite" to <@U1> and <@U2>, <@U1> on 2026-12-01 at 9:30')
    assert once == SchedulePulse(
        "offsite", UsersAudience(("U1", "U2")), Once(date(2026, 12, 1), time(9, 30))
    )
    assert parse('/pulse now "x" to #general open 1h') == PulseNow(
        "x", ChannelAudience("general"), 60
    )


def test_other_subcommands() -> None:
    assert parse("/pulse pause 3") == ChangePulse("pause", 3)
    assert parse("/pulse results latest") == PulseResults()
    assert parse("/pulse results 12") == PulseResults(12)
    assert parse('/answer 7 easy=4 value=5 "so much better"') == AnswerPulse(
        7, 4, 5, "so much better"
    )
    assert parse("/answer 7 value=1 easy=2 meh really") == AnswerPulse(7, 2, 1, "meh really")


@pytest.mark.parametrize(
    "text",
    [
        '/pulse schedule "x" to #a #b every mon at 10:00',
        '/pulse schedule "x" to #a every mon at 10:00 cron "0 1 * * *"',
        '/pulse schedule "x" to #a cron "0 10 * * MON" at 10:00',
        '/pulse schedule "" to #a every mon at 10:00',
        "/pulse pause",
        "/answer seven easy=1 value=1",
    ],
)
def test_unreadable_commands_say_what_to_type(text: str) -> None:
    with pytest.raises(ParseError):
        parse(text)
