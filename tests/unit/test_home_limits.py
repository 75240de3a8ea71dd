"""The largest realistic home fits every platform's documented limits: Slack's Home tab (100
blocks, slack_sdk's own field checks) and the 28 KB card budget on Teams."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slack_sdk.models.views import View

from adapters.slack.blockkit import home_view
from adapters.teams.cards import MAX_CARD_BYTES, adaptive_card, size_of
from bot.home import rules
from bot.home.messages import HomeData, Received, TeamBrief, home
from bot.messages import Chart, Mention, Message
from bot.pulses.contract import (
    OpenRoundLine,
    RoundSummary,
    ScheduleLine,
    WaitingPulse,
    easy_value_map,
)

NOW = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
# Hostile, long, wide text everywhere a user writes it: reasons, subjects, names.
LONG = ("<!channel> *bold* [link](https://evil.example) 日本語 🎉 " * 40)[:1000]


def _map() -> Chart:
    """A team's map with as many rounds as a home places, every subject long and hostile."""
    rounds = [
        RoundSummary(
            round_id=n,
            schedule_id=1,
            subject=LONG[:200],
            scheduled_for=NOW,
            closes_at=NOW,
            closed=True,
            invited=500,
            responded=480,
            shown=True,
            easy_mean=4.25,
            value_mean=1.75,
        )
        for n in range(rules.MAP_ROUNDS)
    ]
    chart = easy_value_map("T" * 64, rounds)
    assert chart is not None
    return chart.model_copy(update={"png": b"\x89PNG"})


def _chart_indexes(message: Message) -> list[int]:
    return [index for index, block in enumerate(message.blocks) if isinstance(block, Chart)]


def _largest() -> HomeData:
    return HomeData(
        name="Anna " + "Adminova" * 20,
        received_week=999,
        received_month=9999,
        given_week=99,
        given_month=999,
        allowance=1000,
        left_today=1000,
        resets="in 13 h 59 min (midnight, America/Argentina/ComodRivadavia)",
        latest=[
            Received(giver=Mention(user_id=f"U{n:08d}", name="G" * 200), reason=LONG, when="today")
            for n in range(rules.LATEST_KUDOS)
        ],
        waiting=[
            WaitingPulse(round_id=100_000 + n, subject=LONG[:200], closes_at=NOW) for n in range(40)
        ],
        teams=[
            TeamBrief(
                name="T" * 64, members=500, received=9999, given=9999, quiet=499, chart=_map()
            )
            for _ in range(20)
        ],
        schedules=[
            ScheduleLine(
                schedule_id=10_000 + n,
                subject=LONG[:200],
                audience="team:" + "x" * 64,
                status="paused" if n % 2 else "active",
                next_fire_at=NOW + timedelta(days=n),
                timezone="America/Argentina/ComodRivadavia",
            )
            for n in range(60)
        ],
        open_rounds=[
            OpenRoundLine(
                round_id=100_000 + n,
                subject=LONG[:200],
                closes_at=NOW,
                progress="fewer than 5 answers so far",
            )
            for n in range(40)
        ],
    )


def _local(moment: datetime) -> str:
    return f"{moment:%a %d %b %H:%M}"


def test_the_largest_home_fits_a_slack_home_tab() -> None:
    message = home(_largest(), _local)
    # Every shown team's map is a picture (an uploaded file), the largest a home gets.
    files = {index: f"F{index:010d}" for index in _chart_indexes(message)}
    assert len(files) == rules.TEAMS
    view = home_view(message, files)
    assert sum(block["type"] == "image" for block in view["blocks"]) == rules.TEAMS
    View(**view).validate_json()  # slack_sdk: ≤ 100 blocks, every text and element limit
    assert len(view["blocks"]) <= 100
    # An image's alt_text and title are plain text, never parsed for mentions or formatting.
    text = str([block for block in view["blocks"] if block["type"] != "image"])
    assert "and 35 more pulses" in text  # 40 waiting, 5 shown
    assert "and 10 more teams" in text  # 20 led, 10 shown
    assert "and 52 more schedules" in text
    assert "and 32 more open pulses" in text
    assert "<!channel>" not in text  # user text stays inert
    for block in view["blocks"]:
        if block["type"] == "actions":
            assert len(block["elements"]) <= 25


def test_the_largest_home_in_words_before_its_pictures_are_drawn_fits_too() -> None:
    view = home_view(home(_largest(), _local))
    View(**view).validate_json()
    assert len(view["blocks"]) <= 100
    assert "<!channel>" not in str(view) and "image" not in {b["type"] for b in view["blocks"]}


def test_the_largest_home_card_stays_under_28_kb() -> None:
    message = home(_largest(), _local)
    url = "https://kudos.example.com/charts/" + "x" * 32 + ".1796000000." + "s" * 43 + ".png"
    urls = {index: url for index in _chart_indexes(message)}
    card = adaptive_card(message, viewer="29:" + "a" * 80, chart_urls=urls)
    assert size_of(card) <= MAX_CARD_BYTES
    assert str(card).count("'type': 'Image'") == rules.TEAMS
    assert card["refresh"]["userIds"] == ["29:" + "a" * 80]
    assert "and 10 more teams" in str(card)


def test_the_smallest_home_is_valid_too() -> None:
    data = HomeData(
        name="",
        received_week=0,
        received_month=0,
        given_week=0,
        given_month=0,
        allowance=5,
        left_today=5,
        resets="in 1 min (midnight, UTC)",
    )
    view = home_view(home(data, _local))
    View(**view).validate_json()
    assert "Your teams" not in str(view) and "Pulses you run" not in str(view)
