"""Charts as PNG bytes with matplotlib. Runs inside the picture process only (pictures.py):
matplotlib is imported here, lazily, so no process that answers people ever loads it.

Accessible by construction: the Okabe–Ito palette (told apart with colour-blindness), series
also differ by marker and line style, an opaque white background (no transparency for dark
mode to show through), and sizes readable in a chat thumbnail. User text is drawn literally:
mathtext is off, so `$…$` or broken TeX is just text; glyphs a font lacks become boxes.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from typing import Any

from bot.messages import Chart

# Okabe & Ito (2008), "Color Universal Design".
ORANGE, SKY, GREEN, BLUE, VERMILLION, PURPLE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
)
INK = "#222222"
SIZE_INCHES = (8.0, 6.0)
DPI = 100
LABEL = 40
TITLE = 80
MAP_LABELS = 30  # more than this many points: only the largest are named
# Controls and bidi overrides have no business in a picture; fonts draw them as junk.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

_ready = False


def _text(text: str, limit: int) -> str:
    text = _CONTROLS.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _setup() -> Any:
    global _ready
    import matplotlib

    if not _ready:
        matplotlib.use("Agg", force=True)
        matplotlib.rcParams.update(
            {
                "text.parse_math": False,
                "text.usetex": False,
                "font.size": 12,
                "axes.titlesize": 14,
                "figure.facecolor": "white",
                "axes.facecolor": "white",
                "savefig.facecolor": "white",
                "savefig.transparent": False,
                "text.color": INK,
                "axes.labelcolor": INK,
            }
        )
        _ready = True
    from matplotlib.figure import Figure

    return Figure


def render_png(data: dict[str, Any]) -> bytes:
    """One chart (a `Chart` as JSON) as PNG bytes. Plain data in and bytes out, so the call
    crosses a process boundary cheaply."""
    chart = Chart.model_validate(data)
    figure_class = _setup()
    figure = figure_class(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    draw = {"easy_value_map": _map, "pulse_trend": _trend, "kudos_weeks": _kudos}[chart.chart]
    with warnings.catch_warnings():
        # "Glyph … missing from font(s)": an emoji or CJK subject draws as boxes, by design.
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*")
        warnings.filterwarnings("ignore", message=r".*not in font.*")
        draw(axes, chart)
        axes.set_title(_text(chart.title, TITLE), loc="left", parse_math=False)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI, facecolor="white", transparent=False)
    return buffer.getvalue()


def _map(axes: Any, chart: Chart) -> None:
    low, high, mid = 1.0, 5.0, 3.0
    axes.set_xlim(low - 0.25, high + 0.25)
    axes.set_ylim(low - 0.25, high + 0.25)
    shade = [
        (mid, high + 0.25, mid, high + 0.25, GREEN, "easy & valuable", "right", "top"),
        (low - 0.25, mid, mid, high + 0.25, SKY, "valuable, not easy", "left", "top"),
        (mid, high + 0.25, low - 0.25, mid, ORANGE, "easy, little value", "right", "bottom"),
        (low - 0.25, mid, low - 0.25, mid, VERMILLION, "neither", "left", "bottom"),
    ]
    for x0, x1, y0, y1, colour, label, h_align, v_align in shade:
        axes.axvspan(
            x0,
            x1,
            ymin=(y0 - 0.75) / 4.5,
            ymax=(y1 - 0.75) / 4.5,
            color=colour,
            alpha=0.12,
            linewidth=0,
        )
        axes.text(
            x1 - 0.08 if h_align == "right" else x0 + 0.08,
            y1 - 0.08 if v_align == "top" else y0 + 0.08,
            label,
            ha=h_align,
            va=v_align,
            fontsize=11,
            color=INK,
            alpha=0.75,
            style="italic",
            parse_math=False,
        )
    axes.axvline(mid, color=INK, linewidth=1, alpha=0.6)
    axes.axhline(mid, color=INK, linewidth=1, alpha=0.6)
    points = chart.points
    largest = max((point.size for point in points), default=1) or 1
    sizes = [80 + 520 * math.sqrt(max(point.size, 0) / largest) for point in points]
    axes.scatter(
        [point.x for point in points],
        [point.y for point in points],
        s=sizes,
        color=BLUE,
        alpha=0.8,
        edgecolors="white",
        linewidths=1.5,
        zorder=3,
    )
    named = sorted(points, key=lambda point: -point.size)[:MAP_LABELS]
    for point in named:
        # Points on the right are named to their left, so no label runs off the picture.
        left = point.x > mid
        axes.annotate(
            _text(point.label, LABEL),
            (point.x, point.y),
            xytext=(-12 if left else 12, 10),
            textcoords="offset points",
            ha="right" if left else "left",
            fontsize=10,
            color=INK,
            parse_math=False,
            zorder=4,
        )
    axes.set_xlabel("EASY (mean, 1 = hard … 5 = very easy)", parse_math=False)
    axes.set_ylabel("VALUE (mean, 1 = none … 5 = a lot)", parse_math=False)
    axes.set_xticks([1, 2, 3, 4, 5])
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.text(
        1.0,
        1.01,
        "circle size: number of answers",
        transform=axes.transAxes,
        ha="right",
        va="bottom",
        fontsize=9,
        color=INK,
        parse_math=False,
    )


def _trend(axes: Any, chart: Chart) -> None:
    styles = [(BLUE, "o", "-"), (ORANGE, "s", "--")]
    positions = list(range(len(chart.categories)))
    for series, (colour, marker, line) in zip(chart.series, styles, strict=False):
        values = [math.nan if value is None else value for value in series.values]
        axes.plot(
            positions,
            values,
            color=colour,
            marker=marker,
            linestyle=line,
            linewidth=2.5,
            markersize=8,
            label=_text(series.name, LABEL),
        )
    axes.set_ylim(0.8, 5.2)
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.set_xticks(positions, [_text(label, 12) for label in chart.categories])
    axes.set_ylabel("mean (1–5)")
    axes.set_xlabel("round, by the day it was asked")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="lower left")
    if any(value is None for series in chart.series for value in series.values):
        axes.text(
            1.0,
            1.01,
            "gaps: rounds hidden to keep answers anonymous",
            transform=axes.transAxes,
            ha="right",
            va="bottom",
            fontsize=9,
            parse_math=False,
        )


def _kudos(axes: Any, chart: Chart) -> None:
    width = 0.38
    positions = list(range(len(chart.categories)))
    styles = [(GREEN, ""), (PURPLE, "//")]
    for index, (series, (colour, hatch)) in enumerate(zip(chart.series, styles, strict=False)):
        values = [value or 0 for value in series.values]
        offset = (index - 0.5) * width
        axes.bar(
            [p + offset for p in positions],
            values,
            width,
            color=colour,
            hatch=hatch,
            edgecolor="white",
            label=_text(series.name, LABEL),
        )
    axes.set_xticks(positions, [_text(label, 12) for label in chart.categories])
    axes.set_ylabel("kudos")
    axes.set_xlabel("week starting")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left")
