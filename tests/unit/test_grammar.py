from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.app import parse
from bot.kudos.commands import GiveKudos, OpenKudosForm, ShowHelp, ShowStats, ShowTop, UndoKudos
from bot.lexicon import ParseError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "/kudos <@U1> <@U2> for untangling the refund flow #easy #value",
            GiveKudos(("U1", "U2"), "for untangling the refund flow", ("easy", "value")),
        ),
        ("kudos <@U1>, <@U2> and <@U3> great demo", GiveKudos(("U1", "U2", "U3"), "great demo")),
        ("/kudos <@U1> <@U1> thanks a lot", GiveKudos(("U1",), "thanks a lot")),
        (
            "/kudos <@U1> made #EASY checkout for everyone",
            GiveKudos(("U1",), "made checkout for everyone", ("easy",)),
        ),
        ("/kudos <@U1> fixed the #1 priority bug", GiveKudos(("U1",), "fixed the #1 priority bug")),
        (
            "/kudos <@U1> helped in <#C9|support> today",
            GiveKudos(("U1",), "helped in <#C9|support> today"),
        ),
        ("/kudos", OpenKudosForm()),
        ("/kudos undo", UndoKudos()),
        ("/kudos stats", ShowStats()),
        ("/kudos stats <@U7>", ShowStats("U7")),
        ("/kudos top", ShowTop("month")),
        ("/kudos top WEEK", ShowTop("week")),
        ("/kudos leaderboard quarter", ShowTop("quarter")),
        ("/kudos help", ShowHelp("kudos")),
        ("help", ShowHelp("kudos")),
    ],
)
def test_parses_commands(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/kudos bob thanks", "Start with who you are thanking"),
        ("/kudos stats bob", "Usage: /kudos stats [@person]"),
        ("/kudos top year", "Usage: /kudos top [week|month|quarter]"),
        ("/dance", "I don't know the command 'dance'"),
        ("/kudos " + "a" * 5000, "limited to 4,000"),
    ],
)
def test_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message.replace("[", r"\[").replace("|", r"\|")):
        parse(text)


@given(st.text(max_size=300))
def test_any_text_parses_or_fails_with_a_parse_error(text: str) -> None:
    try:
        parse("/kudos " + text)
    except ParseError:
        pass


@given(st.lists(st.from_regex(r"[UW][A-Z0-9]{4,10}", fullmatch=True), min_size=1, max_size=5))
def test_every_leading_mention_is_a_recipient(user_ids: list[str]) -> None:
    mentions = " ".join(f"<@{user_id}>" for user_id in user_ids)
    command = parse(f"/kudos {mentions} for the great work")
    assert isinstance(command, GiveKudos)
    assert command.recipients == tuple(dict.fromkeys(user_ids))
    assert command.reason == "for the great work"
