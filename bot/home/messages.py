"""The home in the neutral model: one message every platform shows its own way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.home import rules
from bot.messages import (
    Block,
    Button,
    Buttons,
    Chart,
    Context,
    Divider,
    Fields,
    Header,
    Mention,
    Message,
    Quote,
    ReplyTo,
    Section,
    Span,
    Strong,
    Text,
)
from bot.pulses.contract import OpenRoundLine, ScheduleLine, WaitingPulse

# Button actions (form ids) the home registers.
RUN = "home.run"  # a typed command, checked by rules.may_run
ANSWER = "home.answer"  # open a waiting pulse's question (anonymous path)
REFRESH = "home.refresh"  # show this home again, for whoever looks (Teams' refresh)

# Shows a time in the viewer's zone.
Local = Callable[[datetime], str]


@dataclass(frozen=True)
class Received:
    giver: Mention
    reason: str
    when: str


@dataclass(frozen=True)
class TeamBrief:
    name: str
    members: int
    received: int
    given: int
    quiet: int
    # The team's EASY × VALUE map, as the visibility gate allows; None when nothing is shown.
    chart: Chart | None = None


@dataclass
class HomeData:
    name: str
    received_week: int
    received_month: int
    given_week: int
    given_month: int
    allowance: int
    left_today: int
    resets: str
    latest: list[Received] = field(default_factory=list)
    waiting: list[WaitingPulse] = field(default_factory=list)
    zone: str = "UTC"
    teams: list[TeamBrief] | None = None  # None: leads no team
    schedules: list[ScheduleLine] | None = None  # None: not an admin
    open_rounds: list[OpenRoundLine] = field(default_factory=list)


def home(data: HomeData, local: Local) -> Message:
    blocks: list[Block] = [Header(text=f"🏠 {data.name}'s home" if data.name else "🏠 Your home")]
    blocks.append(
        Fields(
            items=[
                (
                    "Kudos received",
                    f"{data.received_week} this week · {data.received_month} this month",
                ),
                ("Kudos given", f"{data.given_week} this week · {data.given_month} this month"),
                (
                    "Left to give today",
                    f"{data.left_today} of {data.allowance} · resets {data.resets}",
                ),
            ]
        )
    )
    blocks.append(
        Buttons(buttons=[Button(action=RUN, label="🙌 Give kudos", value="kudos", style="primary")])
    )
    blocks += _latest(data)
    blocks += _waiting(data, local)
    if data.teams is not None:
        blocks += _teams(data.teams)
    if data.schedules is not None:
        blocks += _admin(data.schedules, data.open_rounds, local)
    text = (
        f"Your home: {data.received_week} kudos received this week, {data.left_today} left to "
        f"give today, {len(data.waiting)} pulse(s) waiting for you."
    )
    return Message(audience=ReplyTo(), text=text, blocks=blocks, home=True)


def _latest(data: HomeData) -> list[Block]:
    blocks: list[Block] = [Divider(), Section(spans=[Strong(text="Latest kudos for you")])]
    if not data.latest:
        return [*blocks, Context(spans=[Text(text="None yet — they will show up here.")])]
    for received in data.latest:
        blocks.append(Quote(text=received.reason))
        blocks.append(
            Context(spans=[Text(text="from "), received.giver, Text(text=f" · {received.when}")])
        )
    return blocks


def _waiting(data: HomeData, local: Local) -> list[Block]:
    blocks: list[Block] = [Divider(), Section(spans=[Strong(text="Pulses waiting for you")])]
    shown, more = rules.first(data.waiting, rules.WAITING_PULSES)
    if not shown:
        return [*blocks, Context(spans=[Text(text="Nothing to answer right now.")])]
    for pulse in shown:
        blocks.append(
            Section(
                spans=[
                    Text(text=f"Pulse {pulse.round_id}: did "),
                    Strong(text=pulse.subject),
                    Text(
                        text=" make things EASY and add VALUE? "
                        f"Open until {local(pulse.closes_at)}."
                    ),
                ]
            )
        )
        blocks.append(
            Buttons(
                buttons=[
                    Button(action=ANSWER, label="Answer anonymously", value=str(pulse.round_id))
                ]
            )
        )
    if more:
        blocks.append(_more(more, "pulses: their questions are in your messages"))
    return blocks


def _teams(teams: list[TeamBrief]) -> list[Block]:
    blocks: list[Block] = [Divider(), Header(text="Your teams this week")]
    shown, more = rules.first(teams, rules.TEAMS)
    if not shown:
        return []
    for team in shown:
        spans: list[Span] = [
            Strong(text=team.name),
            Text(
                text=f" · {team.members} members · {team.received} kudos received, "
                f"{team.given} given · {team.quiet} quiet"
            ),
        ]
        blocks.append(Section(spans=spans))
        if team.chart is not None:  # drawn off the request path; its words until then
            blocks.append(team.chart)
    if more:
        blocks.append(_more(more, "teams: /digest now team:NAME shows any of them"))
    return blocks


def _admin(
    schedules: list[ScheduleLine], running: list[OpenRoundLine], local: Local
) -> list[Block]:
    blocks: list[Block] = [Divider(), Header(text="Pulses you run (admin)")]
    shown, more = rules.first(schedules, rules.SCHEDULES)
    if not shown:
        blocks.append(Context(spans=[Text(text="No repeating pulse schedules.")]))
    for line in shown:
        next_at = local(line.next_fire_at) if line.next_fire_at and line.status == "active" else "—"
        blocks.append(
            Section(
                spans=[
                    Strong(text=f"schedule {line.schedule_id}"),
                    Text(
                        text=f" “{line.subject}” → {line.audience} · {line.status} · next {next_at}"
                    ),
                ]
            )
        )
        word = "resume" if line.status == "paused" else "pause"
        blocks.append(
            Buttons(
                buttons=[
                    Button(
                        action=RUN,
                        label="▶ Resume" if word == "resume" else "⏸ Pause",
                        value=f"pulse {word} {line.schedule_id}",
                    )
                ]
            )
        )
    if more:
        blocks.append(_more(more, "schedules: /pulse list shows them all"))
    shown_rounds, more_rounds = rules.first(running, rules.OPEN_ROUNDS)
    for line in shown_rounds:
        blocks.append(
            Section(
                spans=[
                    Strong(text=f"pulse {line.round_id}"),
                    Text(
                        text=f" “{line.subject}” · open until {local(line.closes_at)} · "
                        f"{line.progress}"
                    ),
                ]
            )
        )
        blocks.append(
            Buttons(
                buttons=[
                    Button(
                        action=RUN,
                        label="🔒 Close now",
                        value=f"pulse close {line.round_id}",
                        style="danger",
                    )
                ]
            )
        )
    if more_rounds:
        blocks.append(_more(more_rounds, "open pulses: /pulse list shows them all"))
    return blocks


def _more(count: int, what: str) -> Context:
    return Context(spans=[Text(text=f"… and {count} more {what}.")])


def when(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    return "today" if days < 1 else "yesterday" if days < 2 else f"{days} days ago"
