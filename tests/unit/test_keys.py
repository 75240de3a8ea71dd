"""The pulse key lives outside the database: environment, or a key file only its owner reads."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.ops.keys import KeyProblem, load_keyring
from tests.conftest import make_config


def _config(tmp_path: Path, secret: str | None = None):
    config = make_config()
    pulses = config.pulses.model_copy(update={"secret": secret, "key_file": str(tmp_path / "k")})
    return config.model_copy(update={"pulses": pulses})


def test_the_environment_wins(tmp_path: Path) -> None:
    keyring = load_keyring(_config(tmp_path, "s" * 40), create=True)
    assert keyring.secret == b"s" * 40
    assert not (tmp_path / "k").exists()


def test_a_key_file_is_created_once_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    first = load_keyring(_config(tmp_path), create=True)
    mode = stat.S_IMODE((tmp_path / "k").stat().st_mode)
    assert mode == 0o600
    again = load_keyring(_config(tmp_path), create=True)
    assert again.secret == first.secret and again.fingerprint == first.fingerprint
    assert str(tmp_path / "k") in first.source


def test_without_a_key_and_not_allowed_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(KeyProblem, match="No pulse key"):
        load_keyring(_config(tmp_path), create=False)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    (tmp_path / "k").write_text("a" * 64)
    (tmp_path / "k").chmod(0o644)
    with pytest.raises(KeyProblem, match="chmod 600"):
        load_keyring(_config(tmp_path), create=False)


def test_fingerprints_tell_keys_apart_without_revealing_them(tmp_path: Path) -> None:
    one = load_keyring(_config(tmp_path, "a" * 40), create=False)
    two = load_keyring(_config(tmp_path, "b" * 40), create=False)
    assert one.fingerprint != two.fingerprint
    assert "a" * 8 not in one.fingerprint and len(one.fingerprint) == 16
    assert one.derive("x") != one.derive("y") != one.secret
