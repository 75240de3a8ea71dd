"""Pulse messages in the neutral model: the question (an inline form), reminders, results."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.messages import (
    Block,
    Context,
    Fields,
    Form,
    Header,
    Message,
    Quote,
    RatingInput,
    ReplyTo,
    Section,
    Strong,
    Text,
    TextInput,
    ToPerson,
)
from bot.ops.config import Config
from bot.pulses.rules import MAX_COMMENT, RoundResult
from bot.pulses.timing import local_time

PULSE_FORM = "pulse"


def question_text(subject: str) -> str:
    return f"Did {subject} make things EASY and add VALUE?"


def question(
    config: Config, round_id: int, subject: str, closes_at: datetime, zone: str, *, reminder: bool
) -> dict[str, Any]:
    """The question as outbox JSON, with a placeholder audience each recipient replaces."""
    lead = "⏰ Reminder — a pulse is waiting for you" if reminder else "📊 A quick pulse"
    form = Form(
        form_id=PULSE_FORM,
        title="Your answer",
        submit_label="Send answer",
        inputs=[
            RatingInput(
                name="easy",
                label="EASY — did it make things easier?",
                low_label="much harder",
                high_label="much easier",
            ),
            RatingInput(
                name="value",
                label="VALUE — did it add value?",
                low_label="no value",
                high_label="a lot of value",
            ),
            TextInput(
                name="comment",
                label="Anything to add? (optional)",
                multiline=True,
                optional=True,
                max_length=MAX_COMMENT,
            ),
        ],
        context={"round": str(round_id)},
        text_hint=f'/answer {round_id} easy=1-5 value=1-5 "optional comment"',
        modal=False,
    )
    message = Message(
        audience=ToPerson(user_id="-"),
        text=f"{lead}: {question_text(subject)}",
        blocks=[
            Header(text=lead),
            Section(
                spans=[
                    Text(text="Did "),
                    Strong(text=subject),
                    Text(text=" make things EASY and add VALUE?"),
                ]
            ),
            form,
            Context(spans=[Text(text=_small_print(config, round_id, closes_at, zone))]),
        ],
    )
    return message.model_dump(mode="json")


def _small_print(config: Config, round_id: int, closes_at: datetime, zone: str) -> str:
    return (
        f"Pulse {round_id} · anonymous: results are shown only when at least "
        f"{config.pulses.min_responses} people answer · you can change your answer until "
        f"{local_time(closes_at, zone)}"
    )


def addressed(message: dict[str, Any], user_id: str) -> dict[str, Any]:
    return {**message, "audience": {"kind": "direct", "user_id": user_id}}


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{share:.0%}"


def _mean(mean: float | None) -> str:
    return "–" if mean is None else f"{mean:.1f} / 5"


def _trend(current: float | None, earlier: Sequence[float | None]) -> str:
    known = [value for value in earlier if value is not None]
    if current is None or not known:
        return ""
    change = current - known[0]
    arrow = "▲" if change > 0.05 else "▼" if change < -0.05 else "▶"
    history = " → ".join(f"{value:.1f}" for value in [*reversed(known), current])
    return f"{history} ({arrow} {change:+.1f})"


def results_blocks(
    config: Config,
    round_id: int,
    subject: str,
    result: RoundResult,
    earlier: Sequence[RoundResult],
    *,
    closed: bool,
    closes_at: datetime,
    zone: str,
    progress: str = "",
) -> tuple[str, list[Block]]:
    """(summary text, blocks); `earlier` are the schedule's previous rounds, newest first.
    `progress`: the coarse live count of an open round (bot/pulses/visibility.py)."""
    rate = f"{result.responded} of {result.invited} answered ({result.response_rate:.0%})"
    header = Header(text=f"Pulse {round_id} results — {subject}")
    if not closed:
        text = (
            f"Pulse {round_id} is still open until {local_time(closes_at, zone)} "
            f"({result.invited} asked; {progress}). Results appear when it closes."
        )
        return text, [header, Section(spans=[Text(text=text)])]
    if not result.shown and result.responded < config.pulses.min_responses:
        text = (
            f"Pulse {round_id} — {subject}: {rate}. Results are shown only with at least "
            f"{config.pulses.min_responses} answers, to keep everyone anonymous."
        )
        return text, [header, Section(spans=[Text(text=text)])]
    if not result.shown:
        text = (
            f"Pulse {round_id} — {subject}: {rate}. Results are hidden to keep everyone "
            f"anonymous: {result.hidden_reason or 'too few answers'}."
        )
        return text, [header, Section(spans=[Text(text=text)])]
    quadrants = result.quadrants
    assert quadrants is not None
    items = [
        ("Responses", rate),
        ("EASY", f"{_mean(result.easy_mean)} · {_percent(result.easy_favourable)} favourable"),
        ("VALUE", f"{_mean(result.value_mean)} · {_percent(result.value_favourable)} favourable"),
        ("Easy & valuable", str(quadrants.easy_and_valuable)),
        ("Easy only", str(quadrants.easy_only)),
        ("Valuable only", str(quadrants.valuable_only)),
        ("Neither", str(quadrants.neither)),
    ]
    easy_trend = _trend(result.easy_mean, [r.easy_mean for r in earlier])
    value_trend = _trend(result.value_mean, [r.value_mean for r in earlier])
    if easy_trend:
        items.append(("EASY trend", easy_trend))
    if value_trend:
        items.append(("VALUE trend", value_trend))
    blocks: list[Block] = [header, Fields(items=items)]
    if result.comments:
        blocks.append(Section(spans=[Strong(text="Comments (anonymous, in random order)")]))
        blocks.extend(Quote(text=comment) for comment in result.comments)
    elif result.hidden_reason:
        blocks.append(Context(spans=[Text(text=f"Comments are hidden: {result.hidden_reason}.")]))
    legend = "Favourable = 4 or 5. Quadrants: favourable on EASY, VALUE, both or neither."
    blocks.append(Context(spans=[Text(text=legend)]))
    text = (
        f"Pulse {round_id} results — {subject}: {rate}; EASY {_mean(result.easy_mean)}, "
        f"VALUE {_mean(result.value_mean)}"
    )
    return text, blocks


def results_for(user_id: str | None, text: str, blocks: list[Block]) -> Message:
    audience = ToPerson(user_id=user_id) if user_id else ReplyTo()
    return Message(audience=audience, text=text, blocks=blocks)


HELP_LINES = [
    '/pulse schedule "SUBJECT" to AUDIENCE every mon[,thu] at HH:MM [tz ZONE] [open 48h] — '
    "ask regularly (admins)",
    '/pulse schedule "SUBJECT" to AUDIENCE cron "0 10 * * MON" [tz ZONE] [open 48h] — '
    "cron timing (0 or 7 = Sunday)",
    '/pulse schedule "SUBJECT" to AUDIENCE on YYYY-MM-DD at HH:MM [tz ZONE] — ask once, later',
    '/pulse now "SUBJECT" to AUDIENCE [open 48h] — ask right away (admins)',
    "/pulse list — schedules (schedule N) and open pulses (pulse N) (admins)",
    "/pulse close N — close open pulse N now and send its results (admins)",
    "/pulse cancel pulse N — end open pulse N without results (admins)",
    "/pulse pause|resume|cancel [schedule] ID — stop or restart a schedule (admins)",
    "/pulse results ID|latest — results of a round (admins; team leads for their teams)",
    '/answer ROUND easy=1-5 value=1-5 ["comment"] — answer by typing',
    "/pulse help — this message",
]


def help_message(config: Config) -> Message:
    small_print = (
        "AUDIENCE is #channel (its members when the pulse fires), team:NAME, or @people. "
        f"Answers are anonymous; results need at least {config.pulses.min_responses} answers "
        f"(comments {config.pulses.min_comment_responses}). "
        f"Rounds stay open {config.pulses.open_hours:g}h unless you say otherwise."
    )
    blocks: list[Block] = [
        Header(text=f"{config.bot_name} — EASY/VALUE pulses"),
        *(Section(spans=[Text(text=line)]) for line in HELP_LINES),
        Context(spans=[Text(text=small_print)]),
    ]
    return Message(audience=ReplyTo(), text="\n".join([*HELP_LINES, small_print]), blocks=blocks)
