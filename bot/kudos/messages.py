"""The /kudos help text."""

from __future__ import annotations

from bot.messages import Context, Header, Message, Reply, ReplyTo, Section, Text
from bot.ops.config import Config


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
