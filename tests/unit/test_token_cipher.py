"""Stored platform tokens: sealed under a key derived from the pulse key, bound to their field."""

from __future__ import annotations

import pytest

from bot.ops.keys import KeyProblem, Keyring, TokenCipher

KEY = Keyring(b"k" * 64, "test")


def test_a_sealed_token_reads_back_and_shows_nothing_of_itself() -> None:
    cipher = TokenCipher(KEY)
    sealed = cipher.seal("xoxb-1234-secret", "bot_token")
    assert sealed.startswith("sealed:v1:") and "xoxb" not in sealed and "secret" not in sealed
    assert cipher.open(sealed, "bot_token") == "xoxb-1234-secret"
    assert cipher.seal(sealed, "bot_token") == sealed  # sealing twice changes nothing
    assert cipher.seal("xoxb-1234-secret", "bot_token") != sealed  # a fresh nonce each time


def test_a_token_stored_in_clear_by_an_earlier_version_is_read_as_it_is() -> None:
    assert TokenCipher(KEY).open("xoxb-old", "bot_token") == "xoxb-old"


def test_another_key_or_another_field_cannot_open_it() -> None:
    sealed = TokenCipher(KEY).seal("xoxp-user", "user_token")
    with pytest.raises(KeyProblem, match="another pulse key"):
        TokenCipher(Keyring(b"o" * 64, "other")).open(sealed, "user_token")
    with pytest.raises(KeyProblem):
        TokenCipher(KEY).open(sealed, "bot_token")


def test_the_token_key_is_not_the_pulse_tag_or_ballot_key() -> None:
    tokens = KEY.derive("platform-tokens")
    assert tokens not in {KEY.derive("pulse-respondent-tag"), KEY.derive("pulse-ballot")}
