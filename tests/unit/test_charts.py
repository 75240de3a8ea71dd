"""Chart data obeys the visibility gate, and a chart that cannot be drawn goes out as words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from adapters.slack.blockkit import render_blocks
from adapters.teams.cards import adaptive_card
from bot.digests.charts import kudos_weeks, week_starts
from bot.messages import Message, ToPerson
from bot.pulses.contract import RoundSummary, easy_value_map, pulse_charts, pulse_trend
from bot.runtime.pictures import PictureRenderer

START = datetime(2026, 11, 2, 10, tzinfo=UTC)


def summary(
    index: int,
    subject: str,
    easy: float | None,
    value: float | None,
    n: int,
    *,
    shown: bool = True,
    closed: bool = True,
) -> RoundSummary:
    when = START + timedelta(weeks=index)
    return RoundSummary(
        round_id=index,
        schedule_id=1,
        subject=subject,
        scheduled_for=when,
        closes_at=when,
        closed=closed,
        invited=10,
        responded=n,
        shown=shown,
        easy_mean=easy if shown else None,
        value_mean=value if shown else None,
    )


ROUNDS = [
    summary(1, "deploys", 4.5, 4.0, 6),
    summary(2, "pager rota", None, None, 2, shown=False),
    summary(3, "standups", 2.0, 3.5, 5),
    summary(4, "still open", None, None, 0, shown=False, closed=False),
]


def test_a_hidden_round_is_no_point_on_the_map_and_a_gap_in_the_trend() -> None:
    chart = easy_value_map("support", ROUNDS)
    assert chart is not None
    assert [(p.label, p.x, p.y, p.size) for p in chart.points] == [
        ("deploys", 4.5, 4.0, 6),
        ("standups", 2.0, 3.5, 5),
    ]
    assert "pager rota" not in chart.alt and "1 more hidden" in chart.alt
    assert "(easy & valuable)" in chart.alt and "(valuable, not easy)" in chart.alt
    trend = pulse_trend("support", ROUNDS)
    assert trend is not None
    assert [s.values for s in trend.series] == [[4.5, None, 2.0], [4.0, None, 3.5]]
    assert len(trend.categories) == 3  # the open round is not in the trend


def test_nothing_shown_means_no_picture_at_all() -> None:
    hidden = [
        summary(1, "a", None, None, 2, shown=False),
        summary(2, "b", None, None, 1, shown=False),
    ]
    assert pulse_charts("support", hidden) == []
    starts = week_starts(START, "Europe/Berlin", 4)
    assert kudos_weeks("support", starts, [(0, 0)] * 4, "Europe/Berlin") is None


def test_kudos_weeks_keep_the_local_wall_clock_across_a_dst_change() -> None:
    starts = week_starts(datetime(2026, 11, 13, 15, tzinfo=UTC), "Europe/Berlin", 4)
    local = [start.astimezone(ZoneInfo("Europe/Berlin")) for start in starts]
    assert {moment.hour for moment in local} == {16}  # 25 Oct 2026 moved the UTC offset


def test_long_subjects_are_shortened_on_the_map() -> None:
    chart = easy_value_map("support", [summary(1, "x" * 500, 3.0, 3.0, 5)])
    assert chart is not None and len(chart.points[0].label) <= 40


async def test_a_chart_that_cannot_be_drawn_in_time_goes_out_as_its_words() -> None:
    chart = easy_value_map("support", ROUNDS)
    assert chart is not None
    message = Message(audience=ToPerson(user_id="UDAN"), text="charts", blocks=[chart])
    renderer = PictureRenderer(timeout=0.0)
    try:
        late = await renderer.attach(message)
        assert late.charts[0].png is None
        slack = str(render_blocks(late))
        assert "deploys" in slack and "EASY 4.5" in slack
        assert "EASY 4.5" in str(adaptive_card(late))
        renderer.timeout = 60.0  # a fresh process after the timeout draws it
        drawn = await renderer.attach(message)
        assert (drawn.charts[0].png or b"").startswith(b"\x89PNG")
        assert "(picture below)" in str(render_blocks(drawn))
        # The PNG never travels into the outbox's stored JSON.
        assert "png" not in drawn.model_dump(mode="json")["blocks"][0]
    finally:
        renderer.close()
