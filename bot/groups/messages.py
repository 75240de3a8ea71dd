"""Team replies in the neutral message model: confirmations, the team list, one team's card
and the help text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.messages import (
    Block,
    ChannelLink,
    Context,
    Header,
    Message,
    Reply,
    ReplyTo,
    Section,
    Span,
    Strong,
    Text,
    people_list,
    plain_text,
)
from bot.people.directory import mention
from storage.models import DigestSchedule, Person, Team


def private(spans: Sequence[Span]) -> Reply:
    """One line, answered only to whoever asked."""
    return Reply(
        messages=[
            Message(
                audience=ReplyTo(),
                text=plain_text(list(spans)),
                blocks=[Section(spans=list(spans))],
            )
        ]
    )


def created(name: str, lead: Person, member_count: int, channel_id: str | None) -> Reply:
    follows: list[Span] = (
        [Text(text=", following "), ChannelLink(channel_id=channel_id)] if channel_id else []
    )
    return private(
        [
            Text(text=f"✅ Team {name} created: lead "),
            mention(lead),
            Text(text=f", {member_count} members"),
            *follows,
            Text(text=f". Schedule its digest with /digest schedule team:{name}"),
        ]
    )


def members_changed(
    team_name: str, action: str, people: Sequence[Person], changed: bool, total: int
) -> Reply:
    """What /team add|remove did; `changed` is False when everyone already was (or was not)
    in the team."""
    names = people_list([mention(person) for person in people])
    if not changed:
        state = "already in" if action == "add" else "not in"
        verb = "is" if len(people) == 1 else "are"
        return private([*names, Text(text=f" {verb} {state} {team_name}; nothing changed.")])
    done = "Added" if action == "add" else "Removed"
    where = "to" if action == "add" else "from"
    return private(
        [
            Text(text=f"✅ {done} "),
            *names,
            Text(text=f" {where} {team_name} ({total} members)."),
        ]
    )


def lead_set(team_name: str, lead: Person) -> Reply:
    return private(
        [
            Text(text="✅ "),
            mention(lead),
            Text(text=f" now leads {team_name} and gets its digest."),
        ]
    )


def team_list(
    teams: Sequence[Team],
    counts: Mapping[int, int],
    leads: Mapping[int, Person],
    schedules: Mapping[int, DigestSchedule],
) -> Reply:
    """Every team with its lead, size, channel and digest schedule."""
    if not teams:
        return Reply.private(
            "No teams yet. Create one with " + "/team create NAME lead @LEAD members @a @b"
        )
    blocks: list[Block] = [Header(text=f"Teams ({len(teams)})")]
    lines: list[str] = []
    for team in teams:
        assert team.id is not None
        spans: list[Span] = [Strong(text=team.name), Text(text=" — lead ")]
        lead = leads.get(team.lead_id or 0)
        spans.append(mention(lead) if lead else Text(text="(none)"))
        spans.append(Text(text=f", {counts.get(team.id, 0)} members"))
        if team.channel_id:
            spans += [
                Text(text=" (follows "),
                ChannelLink(channel_id=team.channel_id),
                Text(text=")"),
            ]
        schedule = schedules.get(team.id)
        if schedule:
            spans.append(
                Text(
                    text=f", digest #{schedule.id} {schedule.weekday} {schedule.time} "
                    f"{schedule.timezone}"
                )
            )
        blocks.append(Section(spans=spans))
        lines.append(plain_text(spans))
    return Reply(messages=[Message(audience=ReplyTo(), text="\n".join(lines), blocks=blocks)])


def team_card(
    team: Team, lead: Person | None, members: Sequence[Person], schedule: DigestSchedule | None
) -> Reply:
    """One team: lead, channel, members and its digest schedule (if active)."""
    lead_spans: list[Span] = [mention(lead)] if lead else [Text(text="(none)")]
    blocks: list[Block] = [
        Header(text=f"Team {team.name}"),
        Section(spans=[Strong(text="Lead:"), Text(text=" "), *lead_spans]),
    ]
    if team.channel_id:
        blocks.append(
            Section(
                spans=[
                    Strong(text="Follows:"),
                    Text(text=" "),
                    ChannelLink(channel_id=team.channel_id),
                ]
            )
        )
    member_spans: list[Span] = people_list([mention(person) for person in members]) or [
        Text(text="(none)")
    ]
    blocks.append(
        Section(spans=[Strong(text=f"Members ({len(members)}):"), Text(text=" "), *member_spans])
    )
    if schedule and schedule.active:
        blocks.append(
            Context(
                spans=[
                    Text(
                        text=f"Digest #{schedule.id}: every {schedule.weekday} at "
                        f"{schedule.time} ({schedule.timezone})"
                    )
                ]
            )
        )
    else:
        blocks.append(Context(spans=[Text(text="No digest scheduled.")]))
    text = "\n".join(
        plain_text(block.spans) if isinstance(block, Section | Context) else block.text
        for block in blocks
        if isinstance(block, Section | Context | Header)
    )
    return Reply(messages=[Message(audience=ReplyTo(), text=text, blocks=blocks)])


def help_reply() -> Reply:
    lines = [
        "/team create NAME lead @LEAD members @a @b … — a team with listed members",
        "/team create NAME lead @LEAD channel #CHANNEL — a team that follows a channel",
        "/team add NAME @person … / /team remove NAME @person … — change a listed team",
        "/team lead NAME @person — change who leads it (and gets its digest)",
        "/team list — all teams;  /team show NAME — one team's lead and members",
        "/team help — this message",
    ]
    note = "Teams are managed by admins. Leads get a weekly digest: see /digest help."
    blocks = [
        Header(text="Teams — how to set them up"),
        *(Section(spans=[Text(text=line)]) for line in lines),
        Context(spans=[Text(text=note)]),
    ]
    return Reply(
        messages=[Message(audience=ReplyTo(), text="\n".join([*lines, note]), blocks=blocks)]
    )
