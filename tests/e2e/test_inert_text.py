"""User and directory text stays inert end to end: a Markdown link in a kudos reason is no
link in the Teams channel post or the recipient's DM, and a person whose name is "here" is
no broadcast in a stored reason."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from sqlmodel import select

from storage.models import Recognition
from tests.harness.slack import SlackHarness
from tests.harness.teams import TeamsChat

pytestmark = pytest.mark.asyncio

LINK = "[Reset your password](https://evil.example/login)"


def _links(card_text: str) -> list[str]:
    tokens = [
        t for b in MarkdownIt("commonmark").parse(card_text) for t in [b, *(b.children or [])]
    ]
    return [t.type for t in tokens if t.type in {"link_open", "image", "autolink"}]


async def test_a_markdown_link_in_a_reason_is_no_link_in_teams(teams: TeamsChat) -> None:
    await teams.install_in_team()
    await teams.say(
        "alice",
        f"kudos <at>Bob</at> for the fix, see {LINK} #easy",
        where="channel",
        mentions=("bob",),
    )

    [celebration] = teams.in_channel()
    [dm] = teams.dms_to("bob")
    for posted in (celebration, dm):
        assert "Reset your password" in posted.card_text
        assert _links(posted.card_text.replace("<at>", "").replace("</at>", "")) == []


async def test_a_person_named_here_is_no_broadcast_in_a_reason(slack: SlackHarness) -> None:
    slack.fake.users["UCAROL"]["profile"]["display_name"] = "here"
    slack.fake.users["UCAROL"]["real_name"] = "here"
    slack.fake.users["UCAROL"]["name"] = "here"

    await slack.command("<@UBOB> for pairing with <@UCAROL> on the refund flow #easy")
    await slack.settle()

    async with slack.app.db.read() as unit:
        [reason] = (await unit.session.exec(select(Recognition.reason))).all()
    assert "here" in reason and "@here" not in reason
