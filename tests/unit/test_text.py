from __future__ import annotations

import pytest

from bot.lexicon import clean_user_text, neutralise_pings

J = "\u2060"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("hi <!channel> and <!here|here>", f"hi @{J}channel and @{J}here"),
        ("<!everyone> look", f"@{J}everyone look"),
        ("ping <!subteam^S123|@oncall> now", f"ping @{J}oncall now"),
        ("see <!date^1392734382^{date}|Feb 18>", "see Feb 18"),
        ("@here @Channel @everyone", f"@{J}here @{J}Channel @{J}everyone"),
        ("mail me at ops@here.example", "mail me at ops@here.example"),
    ],
)
def test_broadcasts_are_inert(raw: str, safe: str) -> None:
    assert neutralise_pings(raw) == safe


def test_control_characters_and_runs_of_spaces_go() -> None:
    assert clean_user_text("  thanks\x00 for   the\x07 help  ") == "thanks for the help"
