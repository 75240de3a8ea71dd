"""Kudos in the neutral message model: confirmations, celebrations, DMs, the form, stats,
the leaderboard and the help text. Building only: what to say is decided in rules.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.kudos.commands import Period
from bot.kudos.rules import Quiet
from bot.lexicon import shorten
from bot.messages import (
    Audience,
    Block,
    ChannelLink,
    Choice,
    ChoiceInput,
    Context,
    Fields,
    Form,
    Header,
    Message,
    PeopleInput,
    Quote,
    Reply,
    ReplyTo,
    Section,
    Span,
    Text,
    TextInput,
    ToChannel,
    ToPerson,
    people_list,
    plain_text,
)
from bot.ops.config import Config, KudosSettings
from bot.people.directory import mention
from storage.models import Person

KUDOS_FORM = "kudos"
PERIOD_LABELS: dict[Period, str] = {
    "week": "this week",
    "month": "this month",
    "quarter": "this quarter",
}


def names_of(people: Sequence[Person]) -> str:
    """`@a, @b and @c` as plain text."""
    return plain_text(people_list([mention(person) for person in people]))


# -- giving -----------------------------------------------------------------------------------


def sent(recipients: Sequence[Person], left: int, allowance: int) -> Reply:
    """The giver's private confirmation, with what is left of today's allowance."""
    names = people_list([mention(person) for person in recipients])
    confirmation = Message(
        audience=ReplyTo(),
        text=f"Kudos sent to {plain_text(names)}. You have {left} of {allowance} left today.",
        blocks=[
            Section(
                spans=[
                    Text(text="✅ Kudos sent to "),
                    *names,
                    Text(text=f". You have {left} of {allowance} left today."),
                ]
            )
        ],
    )
    return Reply(messages=[confirmation])


def award_line(settings: KudosSettings, tags: Sequence[str]) -> str:
    """`⚡ Made it EASY  ·  💎 Added VALUE` for the tags given (configured awards only)."""
    awards = [settings.award(tag) for tag in tags]
    return "  ·  ".join(
        f"{award.emoji} {award.label}".strip() for award in awards if award is not None
    )


def _awards_context(line: str) -> list[Block]:
    return [Context(spans=[Text(text=line)])] if line else []


def celebration(
    giver: Person, recipients: Sequence[Person], reason: str, awards: str, channel_id: str
) -> Message:
    """The public post in the kudos channel (or where the kudos was given)."""
    who = mention(giver)
    names = people_list([mention(person) for person in recipients])
    return Message(
        audience=ToChannel(channel_id=channel_id),
        text=f"🎉 {plain_text([who])} gave kudos to {plain_text(names)}: {shorten(reason, 200)}",
        blocks=[
            Section(spans=[Text(text="🎉 "), who, Text(text=" gave kudos to "), *names]),
            Quote(text=reason),
            *_awards_context(awards),
        ],
    )


def received(
    giver: Person, recipient: Person, reason: str, awards: str, posted_in: str | None
) -> Message:
    """The DM to one recipient; `posted_in` names the channel when it is where they were
    thanked, so they can find the celebration."""
    who = mention(giver)
    where: list[Span] = [Text(text=" in "), ChannelLink(channel_id=posted_in)] if posted_in else []
    return Message(
        audience=ToPerson(user_id=recipient.external_id),
        text=f"🎉 You received kudos from {plain_text([who])}: {shorten(reason, 200)}",
        blocks=[
            Section(spans=[Text(text="🎉 You received kudos from "), who, *where]),
            Quote(text=reason),
            *_awards_context(awards),
        ],
    )


# -- undo and revoke --------------------------------------------------------------------------


def withdrawn(audience: Audience, giver: Person, replaces: str) -> Message:
    """Takes the place of a celebration already posted."""
    return Message(
        audience=audience,
        text="This kudos was withdrawn by its giver.",
        blocks=[Context(spans=[Text(text="↩️ This kudos was withdrawn by "), mention(giver)])],
        replaces=replaces,
    )


def nothing_to_undo(undo_minutes: int) -> Reply:
    return Reply.refused(
        f"Nothing to undo: /kudos undo withdraws your last kudos within "
        f"{undo_minutes} minutes of giving it."
    )


def undone(names: str, reason: str) -> Reply:
    return Reply.private(f'↩️ Withdrawn: your kudos to {names} — "{shorten(reason, 80)}".')


def revoked(names: str) -> Reply:
    return Reply.private(f"↩️ Withdrawn: your kudos to {names}.")


# -- the form ---------------------------------------------------------------------------------


def form_reply(settings: KudosSettings) -> Reply:
    awards = [
        Choice(value=award.tag, label=f"{award.emoji} {award.label}".strip())
        for award in settings.awards
    ]
    form = Form(
        form_id=KUDOS_FORM,
        title="Give kudos",
        submit_label="Send kudos",
        modal=True,
        inputs=[
            PeopleInput(name="recipients", label="Who do you want to thank?"),
            ChoiceInput(name="tags", label="Values", choices=awards, multiple=True, optional=True),
            TextInput(
                name="reason",
                label="What did they do?",
                multiline=True,
                max_length=settings.max_reason_length,
                placeholder="e.g. untangled the refund flow so refunds take a day",
            ),
        ],
        text_hint="/kudos @person what they did #tag",
    )
    return Reply(messages=[Message(audience=ReplyTo(), text="Give kudos", blocks=[form])])


# -- stats and leaderboard --------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    """One person's kudos counts; `left_today` only when they asked about themselves."""

    received_week: int
    received_month: int
    received_all: int
    given_month: int
    given_all: int
    top_tags: Sequence[tuple[str, int]]
    left_today: int | None = None


def stats_reply(settings: KudosSettings, subject: Person, own: bool, stats: Stats) -> Reply:
    title = "Your kudos" if own else f"Kudos for {mention(subject).name or subject.external_id}"
    items = [
        ("Received this week", str(stats.received_week)),
        ("Received this month", str(stats.received_month)),
        ("Received in total", str(stats.received_all)),
        ("Given this month", str(stats.given_month)),
        ("Given in total", str(stats.given_all)),
    ]
    if stats.left_today is not None:
        items.append(("Left to give today", f"{stats.left_today} of {settings.allowance}"))
    blocks: list[Block] = [Header(text=title), Fields(items=items)]
    if stats.top_tags:
        labels = []
        for tag, count in stats.top_tags:
            award = settings.award(tag)
            labels.append(f"{award.emoji} {award.label} ×{count}" if award else f"#{tag} ×{count}")
        blocks.append(Context(spans=[Text(text="Top values: " + "  ·  ".join(labels))]))
    summary = f"{title}: {stats.received_all} received, {stats.given_all} given."
    return Reply(messages=[Message(audience=ReplyTo(), text=summary, blocks=blocks)])


def top_reply(period: Period, ranking: Sequence[tuple[Person, int]]) -> Reply:
    label = PERIOD_LABELS[period]
    if not ranking:
        return Reply.private(
            f"No kudos yet {label} — be the first: /kudos @someone what they did #tag"
        )
    blocks: list[Block] = [Header(text=f"🏆 Top kudos {label}")]
    lines: list[str] = []
    for rank, (person, count) in enumerate(ranking, start=1):
        medal = {1: "🥇", 2: "🥈", 3: "🥉"}.get(rank, f"{rank}.")
        blocks.append(
            Section(spans=[Text(text=f"{medal} "), mention(person), Text(text=f" — {count}")])
        )
        lines.append(f"{rank}. {mention(person).name} — {count}")
    text = f"Top kudos {label}: " + "; ".join(lines)
    return Reply(messages=[Message(audience=ReplyTo(), text=text, blocks=blocks)])


# -- help -------------------------------------------------------------------------------------


def help_reply(config: Config, topic: str = "kudos") -> Reply:
    kudos = config.kudos
    tags = "  ".join(f"#{award.tag} {award.emoji} {award.label}".strip() for award in kudos.awards)
    lines = [
        "/kudos @person [@person …] what they did #tag — thank someone "
        "(publicly, and they get a DM)",
        "/kudos — open a form to give kudos",
        f"/kudos undo — withdraw your last kudos (within {kudos.undo_minutes} minutes)",
        "/kudos stats — your kudos received and given",
    ]
    if kudos.leaderboard:
        lines.append("/kudos top [week|month|quarter] — who was recognised most")
    lines.append("/kudos notify off|on — your own kudos DMs (pulse questions still come)")
    lines.append(
        "/kudos settings — where kudos are celebrated and whether recipients get DMs; admins: "
        "/kudos settings celebrate here|channel #channel|nowhere, /kudos settings dms on|off"
    )
    lines.append("home — your kudos, the pulses waiting for you, and more at a glance")
    lines.append("/kudos help — this message")
    lines.append("More: /pulse help (EASY/VALUE pulses), /team help and /digest help (leads)")
    small_print = (
        f"You can give {kudos.allowance} kudos a day. Tags: {tags}. "
        f"Reasons are up to {kudos.max_reason_length:,} characters."
    )
    blocks = [
        Header(text=f"{config.bot_name} — how to give kudos"),
        *(Section(spans=[Text(text=line)]) for line in lines),
        Context(spans=[Text(text=small_print)]),
    ]
    text = "\n".join(lines) + "\n" + small_print
    return Reply(messages=[Message(audience=ReplyTo(), text=text, blocks=blocks)])


# -- how loud kudos are -----------------------------------------------------------------------


def daily_post(channel_id: str) -> Message:
    """The day's post celebrations reply under, when a workspace keeps them in a thread."""
    text = "🎉 Today's kudos — the thanks people gave today are in the thread below."
    return Message(
        audience=ToChannel(channel_id=channel_id),
        text=text,
        blocks=[Section(spans=[Text(text=text)])],
    )


def settings_reply(quiet: Quiet, *, changed: bool) -> Reply:
    where = {
        "here": "in the channel where each kudos is given",
        "nowhere": "nowhere (no public post)",
    }.get(quiet.celebrate, "")
    spans: list[Span] = [Text(text="✅ Saved. " if changed else "")]
    spans.append(Text(text="Kudos are celebrated "))
    if quiet.celebrate == "channel" and quiet.channel:
        spans += [Text(text="in "), ChannelLink(channel_id=quiet.channel)]
    elif quiet.celebrate == "thread" and quiet.channel:
        spans += [
            Text(text="in a thread under one post a day in "),
            ChannelLink(channel_id=quiet.channel),
        ]
    else:
        spans.append(Text(text=where))
    spans.append(
        Text(
            text=f"; recipients {'get' if quiet.dms else 'do not get'} a DM. Admins change this "
            "with /kudos settings celebrate here|channel #channel|thread #channel|nowhere and "
            "/kudos settings dms on|off; anyone can mute their own DMs with /kudos notify off."
        )
    )
    message = Message(audience=ReplyTo(), text=plain_text(spans), blocks=[Section(spans=spans)])
    return Reply(messages=[message])
