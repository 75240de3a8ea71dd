"""A team digest as facts, and those facts as one neutral message every adapter renders; the
replies to /digest schedule, list, cancel and help."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.digests.rules import (
    DAY_NAMES,
    Window,
    may_show_round,
    nothing_to_report,
    rounds_in_week,
)
from bot.lexicon import shorten
from bot.messages import (
    Audience,
    Block,
    Chart,
    Context,
    Divider,
    Fields,
    Header,
    Mention,
    Message,
    Quote,
    Reply,
    ReplyTo,
    Section,
    Span,
    Strong,
    Text,
    people_list,
    plain_text,
)
from bot.ops.config import Config, DigestSettings
from bot.people.directory import mention
from bot.pulses.contract import RoundSummary
from storage.models import DigestSchedule, Person, Team
from storage.repositories.digests import KudosFacts, Member

SPARKS = "▁▂▃▄▅▆▇█"
HIDDEN = "·"
_UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class TeamDigest:
    team_id: int
    team_name: str
    workspace_id: int
    lead: Member
    window: Window
    kudos: KudosFacts
    # The team's last rounds up to the end of the window, oldest first (at most 8).
    rounds: list[RoundSummary]
    quiet_member_days: int
    # Where the lead is: quiet hours are theirs.
    lead_zone: ZoneInfo = _UTC
    # Pictures of the same facts (bot/digests/charts.py), drawn by the outbox on delivery.
    charts: list[Chart] = field(default_factory=list)

    @property
    def rounds_this_week(self) -> list[RoundSummary]:
        return rounds_in_week(self.rounds, self.window.this_start)

    @property
    def nothing_to_report(self) -> bool:
        k = self.kudos
        return nothing_to_report(
            k.received_this_week, k.given_this_week, len(self.rounds_this_week)
        )


def sparkline(values: list[float | None], low: float = 1.0, high: float = 5.0) -> str:
    """One character per value on a fixed 1–5 scale (so weeks compare); a gap for a round
    whose results were hidden by the anonymity threshold."""
    marks = []
    for value in values:
        if value is None:
            marks.append(HIDDEN)
            continue
        share = (min(max(value, low), high) - low) / (high - low)
        marks.append(SPARKS[int(share * (len(SPARKS) - 1) + 0.5)])  # half up, not to even
    return "".join(marks)


def _change(now: int, before: int) -> str:
    if now == before:
        return "same as last week"
    sign = "▲" if now > before else "▼"
    return f"{sign}{abs(now - before)} vs {before} last week"


def _mention(member: Member) -> Mention:
    return Mention(user_id=member.external_id, name=member.name)


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _when(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def render_digest(
    digest: TeamDigest, config: Config, audience: Audience, *, with_charts: bool = True
) -> Message:
    window = digest.window
    span = f"{_when(window.this_start, window.zone)} – {_when(window.end, window.zone)}"
    title = f"Weekly digest — {digest.team_name}"
    if digest.nothing_to_report:
        text = (
            f"{title}: a quiet week — no kudos given or received and no pulse rounds "
            f"({span}, {window.zone})."
        )
        blocks: list[Block] = [
            Section(
                spans=[
                    Strong(text=title),
                    Text(text=": a quiet week — no kudos given or received and no pulse rounds."),
                ]
            ),
            Context(spans=[Text(text=f"{span} ({window.zone})")]),
            *_quiet_members(digest),
        ]
        return Message(audience=audience, text=text, blocks=blocks)
    kudos = digest.kudos
    blocks = [
        Header(text=title),
        Context(spans=[Text(text=f"{span} ({window.zone}) · {kudos.member_count} members")]),
        Fields(
            items=[
                (
                    "Kudos received",
                    f"{kudos.received_this_week} "
                    f"({_change(kudos.received_this_week, kudos.received_last_week)})",
                ),
                (
                    "Kudos given",
                    f"{kudos.given_this_week} "
                    f"({_change(kudos.given_this_week, kudos.given_last_week)})",
                ),
            ]
        ),
    ]
    blocks += _recognition_blocks(digest, config)
    blocks += _pulse_blocks(digest, config)
    if with_charts:
        blocks += digest.charts
    text = (
        f"{title}: {kudos.received_this_week} kudos received (last week "
        f"{kudos.received_last_week}), {kudos.given_this_week} given (last week "
        f"{kudos.given_last_week})."
    )
    return Message(audience=audience, text=text, blocks=blocks)


def _recognition_blocks(digest: TeamDigest, config: Config) -> list[Block]:
    kudos = digest.kudos
    blocks: list[Block] = []
    if kudos.recognised:
        spans: list[Span] = [Strong(text="Recognised this week:"), Text(text=" ")]
        for index, (member, n) in enumerate(kudos.recognised):
            if index:
                spans.append(Text(text=", "))
            spans += [_mention(member), Text(text=f" ×{n}")]
        blocks.append(Section(spans=spans))
    for highlight in kudos.highlights:
        spans = [
            _mention(highlight.giver),
            Text(text=" → "),
            *people_list([_mention(member) for member in highlight.recipients]),
        ]
        if highlight.tags:
            spans.append(Text(text="  " + " ".join(f"#{tag}" for tag in highlight.tags)))
        blocks += [Section(spans=spans), Quote(text=shorten(highlight.reason, 300))]
    if kudos.tags:
        parts = []
        for tag, n in kudos.tags:
            award = config.kudos.award(tag)
            label = f"{award.emoji} {award.label}".strip() if award else f"#{tag}"
            parts.append(f"{label} {n}")
        blocks.append(
            Section(spans=[Strong(text="Values:"), Text(text=" "), Text(text="  ·  ".join(parts))])
        )
    return blocks + _quiet_members(digest)


def _quiet_members(digest: TeamDigest) -> list[Block]:
    """Who has gone unrecognised: what a lead most needs to see, even in a quiet week."""
    if not digest.kudos.quiet:
        return []
    spans = [
        Strong(text=f"No recognition in {digest.quiet_member_days} days:"),
        Text(text=" "),
        *people_list([_mention(member) for member in digest.kudos.quiet]),
    ]
    return [
        Section(spans=spans),
        Context(spans=[Text(text="Worth a look — a word of thanks goes a long way.")]),
    ]


def _pulse_blocks(digest: TeamDigest, config: Config) -> list[Block]:
    blocks: list[Block] = [Divider(), Section(spans=[Strong(text="Pulse — EASY and VALUE")])]
    if not digest.rounds_this_week:  # said, so a lead does not wonder if pulses were left out
        blocks.append(Context(spans=[Text(text="No pulse round for this team closed this week.")]))
    if not digest.rounds:
        return blocks
    threshold = config.pulses.min_responses
    for summary in digest.rounds_this_week:
        rate = f"{summary.responded}/{summary.invited} answered ({_percent(summary.response_rate)})"
        if not summary.closed:
            # How many answered so far is not shown: answers are sealed until the round closes.
            rate = f"{summary.invited} asked, still open"
            result = "results when it closes"
        elif may_show_round(summary, threshold):
            result = (
                f"EASY {summary.easy_mean:.1f}"
                + _favourable(summary.easy_favourable)
                + f" · VALUE {summary.value_mean:.1f}"
                + _favourable(summary.value_favourable)
            )
        elif summary.responded < threshold:
            result = f"results hidden: fewer than {threshold} answers keep it anonymous"
        else:  # too close to another round's audience (docs/PRIVACY.md)
            result = "results hidden to keep answers anonymous (see /pulse results)"
        blocks.append(
            Section(
                spans=[
                    Strong(text=shorten(summary.subject, 120)),
                    Text(text=f" — {rate} · {result}"),
                ]
            )
        )
    shown = [r if may_show_round(r, threshold) else None for r in digest.rounds]
    easy = sparkline([r.easy_mean if r else None for r in shown])
    value = sparkline([r.value_mean if r else None for r in shown])
    closed = [r for r in digest.rounds if r.closed]
    invited = sum(r.invited for r in closed)
    responded = sum(r.responded for r in closed)
    overall = _percent(responded / invited) if invited else "—"
    blocks.append(
        Fields(
            items=[
                (f"EASY trend (last {len(digest.rounds)} rounds)", easy),
                (f"VALUE trend (last {len(digest.rounds)} rounds)", value),
                ("Response rate", f"{overall} over those rounds"),
            ]
        )
    )
    return blocks


def _favourable(share: float | None) -> str:
    return f" ({_percent(share)} favourable)" if share is not None else ""


# -- replies to /digest commands --------------------------------------------------------------


def local_moment(moment: datetime, zone: ZoneInfo) -> str:
    """'Fri 20 Nov 2026 16:00' on the schedule's own clock."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def _private(spans: list[Span]) -> Reply:
    message = Message(audience=ReplyTo(), text=plain_text(spans), blocks=[Section(spans=spans)])
    return Reply(messages=[message])


def scheduled(schedule: DigestSchedule, team_name: str, lead: Person | None) -> Reply:
    """The confirmation of /digest schedule, with the first firing on the schedule's clock."""
    zone = ZoneInfo(schedule.timezone)
    to: list[Span] = [Text(text=", to "), mention(lead)] if lead else []
    spans: list[Span] = [
        Text(
            text=f"📅 Digest #{schedule.id} for {team_name}: every {DAY_NAMES[schedule.weekday]} "
            f"at {schedule.time} ({schedule.timezone})"
        ),
        *to,
        Text(text=f". First one: {local_moment(schedule.next_fire_at, zone)}."),
    ]
    return _private(spans)


def schedule_list(
    found: Sequence[tuple[DigestSchedule, Team]], leads: Mapping[int, Person]
) -> Reply:
    if not found:
        return Reply.private(
            "No digests scheduled. Add one with " + "/digest schedule team:NAME every fri at 16:00"
        )
    blocks: list[Block] = [Header(text=f"Digest schedules ({len(found)})")]
    lines: list[str] = []
    for schedule, team in found:
        zone = ZoneInfo(schedule.timezone)
        lead = leads.get(team.lead_id or 0)
        spans: list[Span] = [
            Strong(text=f"#{schedule.id} {team.name}"),
            Text(
                text=f" — every {DAY_NAMES[schedule.weekday]} at {schedule.time} "
                f"({schedule.timezone}), next {local_moment(schedule.next_fire_at, zone)}"
            ),
        ]
        if lead:
            spans += [Text(text=", to "), mention(lead)]
        blocks.append(Section(spans=spans))
        lines.append(plain_text(spans))
    return Reply(messages=[Message(audience=ReplyTo(), text="\n".join(lines), blocks=blocks)])


def cancelled(schedule_id: int, team_name: str) -> Reply:
    return Reply.private(
        f"🗑️ Digest #{schedule_id} for {team_name} cancelled. "
        f"/team show {team_name} still works; /digest now still sends one on request."
    )


def help_reply(defaults: DigestSettings) -> Reply:
    lines = [
        "/digest schedule team:NAME every WEEKDAY at HH:MM [tz ZONE] — weekly digest to the "
        f"team's lead (default every {defaults.weekday} at {defaults.time}, lead's zone)",
        "/digest now [team:NAME] — this week's digest, now (leads: your team; admins: any)",
        "/digest list — scheduled digests;  /digest cancel ID — stop one",
        "/digest empty-weeks send|skip [team:NAME] — a week with no kudos, no pulse and no "
        "quiet member sends no digest unless you ask for every week (leads, admins)",
        "/digest help — this message",
    ]
    note = (
        "A digest shows kudos received and given this week vs last week, highlights, values, "
        f"members with no recognition in {defaults.quiet_member_days} days, and pulse "
        "results with their trend (only rounds with enough answers to stay anonymous)."
    )
    blocks = [
        Header(text="Digests — a weekly summary for team leads"),
        *(Section(spans=[Text(text=line)]) for line in lines),
        Context(spans=[Text(text=note)]),
    ]
    message = Message(audience=ReplyTo(), text="\n".join([*lines, note]), blocks=blocks)
    return Reply(messages=[message])
