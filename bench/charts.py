"""Charts: time and memory per chart kind, and 200 weekly digests' charts drawn by the bot's
picture process.

    .venv/bin/python bench/charts.py [--renders 10] [--digests 200] [--readme docs/images]

Per kind, a fresh process imports matplotlib, draws the demo chart `--renders` times and
reports the import time, the median and worst draw, the PNG size, and the resident memory
after the import and after drawing (peak RSS). Then `--digests` digest messages, each with
the three charts a digest carries, go through `PictureRenderer.attach` — what the outbox
calls before delivering — one after the other, as the outbox would at a Friday 16:00 peak.
`--readme DIR` writes the demo map and trend as the README shows them, and stops.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import multiprocessing
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.digests.charts import kudos_weeks, week_starts  # noqa: E402
from bot.messages import Chart, Message, ToPerson  # noqa: E402
from bot.pulses.contract import RoundSummary, pulse_charts  # noqa: E402
from bot.runtime.pictures import PictureRenderer  # noqa: E402

# The demo team's last eight changes: (subject, mean EASY, mean VALUE, answers, shown).
DEMO_ROUNDS = [
    ("New deploy pipeline", 4.4, 4.6, 9, True),
    ("Standups moved to 10:00", 3.6, 2.4, 11, True),
    ("On-call handbook", 3.1, 4.2, 7, True),
    ("Pager rota swap", 0.0, 0.0, 3, False),  # too few answers: hidden, so no point
    ("Expense tool v2", 1.8, 3.6, 8, True),
    ("Quarterly planning format", 2.2, 1.9, 10, True),
    ("Pairing Fridays", 4.1, 3.9, 6, True),
    ("Support rotation", 3.4, 3.3, 12, True),
]
DEMO_KUDOS = [(3, 2), (5, 4), (2, 3), (6, 5), (4, 4), (1, 2), (7, 6), (5, 5)]
END = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def demo_rounds() -> list[RoundSummary]:
    rounds = []
    for index, (subject, easy, value, answers, shown) in enumerate(DEMO_ROUNDS):
        start = END - timedelta(weeks=len(DEMO_ROUNDS) - index)
        rounds.append(
            RoundSummary(
                round_id=index + 1,
                schedule_id=1,
                subject=subject,
                scheduled_for=start,
                closes_at=start + timedelta(days=1),
                closed=True,
                invited=12,
                responded=answers,
                shown=shown,
                easy_mean=easy if shown else None,
                value_mean=value if shown else None,
            )
        )
    return rounds


def demo_charts() -> list[Chart]:
    """The map and the trend of the demo team, and its kudos by week — the bot's own builders."""
    starts = week_starts(END - timedelta(days=7), "Europe/Berlin")
    kudos = kudos_weeks("Support", starts, DEMO_KUDOS, "Europe/Berlin")
    assert kudos is not None
    return [*pulse_charts("Support", demo_rounds()), kudos]


def _measure(data: dict[str, object], renders: int) -> dict[str, float]:
    """In a fresh process: import, then draw `renders` times."""
    before = time.perf_counter()
    from bot.runtime.drawing import render_png

    render_png(data)  # the first draw also loads fonts
    imported = time.perf_counter() - before
    rss_imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    times, size = [], 0
    for _ in range(renders):
        start = time.perf_counter()
        size = len(render_png(data))
        times.append(time.perf_counter() - start)
    return {
        "first": imported,
        "median": statistics.median(times),
        "worst": max(times),
        "bytes": size,
        "rss_first_mib": rss_imported / 1024,
        "rss_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def per_kind(renders: int) -> None:
    print(f"per chart ({renders} draws after the first, each kind in a fresh process):")
    context = multiprocessing.get_context("spawn")
    for chart in demo_charts():
        with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
            found = pool.submit(_measure, chart.model_dump(mode="json"), renders).result()
        print(
            f"  {chart.chart:15} first (import + draw) {found['first'] * 1000:6.0f} ms · "
            f"median {found['median'] * 1000:5.0f} ms · worst {found['worst'] * 1000:5.0f} ms · "
            f"PNG {found['bytes'] / 1024:4.0f} KiB · RSS {found['rss_first_mib']:4.0f} MiB "
            f"after the first, peak {found['rss_peak_mib']:4.0f} MiB"
        )


async def _loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    """How late a 10 ms timer fires on the bot's loop while charts are drawn elsewhere."""
    while not stop.is_set():
        planned = time.perf_counter() + 0.01
        await asyncio.sleep(0.01)
        lags.append(time.perf_counter() - planned)


async def digests(count: int) -> None:
    renderer = PictureRenderer()
    charts = demo_charts()
    stop, lags = asyncio.Event(), []
    ticker = asyncio.create_task(_loop_lag(stop, lags))
    started = time.perf_counter()
    drawn = 0
    for index in range(count):
        message = Message(
            audience=ToPerson(user_id=f"U{index:07d}"), text="Weekly digest", blocks=charts
        )
        attached = await renderer.attach(message)
        drawn += sum(1 for chart in attached.charts if chart.png)
    elapsed = time.perf_counter() - started
    stop.set()
    await ticker
    renderer.close()
    lags.sort()
    print(
        f"{count} digests × {len(charts)} charts through PictureRenderer.attach: {elapsed:.1f} s "
        f"({elapsed / count * 1000:.0f} ms per digest, {drawn} of {count * len(charts)} drawn); "
        f"the bot's loop meanwhile: 10 ms timer late by median {lags[len(lags) // 2] * 1000:.1f} "
        f"ms, p99 {lags[int(len(lags) * 0.99)] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms"
    )


def readme(directory: Path) -> None:
    from bot.runtime.drawing import render_png

    directory.mkdir(parents=True, exist_ok=True)
    for chart in demo_charts()[:2]:
        path = directory / chart.filename
        path.write_bytes(render_png(chart.model_dump(mode="json")))
        print(f"{path}: {chart.alt}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=10)
    parser.add_argument("--digests", type=int, default=200)
    parser.add_argument("--readme", type=Path, help="write the README's demo charts here")
    options = parser.parse_args()
    if options.readme:
        readme(options.readme)
        return
    per_kind(options.renders)
    asyncio.run(digests(options.digests))


if __name__ == "__main__":
    main()
