"""Secrets that must never live in the database: where they come from, and one fingerprint that
tells every process sharing a database whether they all hold the same key.

The key comes from the environment (`KUDOS_PULSE_SECRET`, or `pulses.secret` in app.yaml) or
from a key file outside the database (`pulses.key_file`), which `run`, the console and `init`
create once, readable by its owner only, and never overwrite. A database dump or backup
therefore carries no key; key backups live apart from database backups (docs/PRIVACY.md).

Purposes get keys of their own, derived with HKDF, so no two uses share key material: pulse
tags and ballots (bot/pulses/ballot.py) and stored platform tokens (`TokenCipher`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.ops.config import Config
from storage.db import Database
from storage.repositories import settings

KEY_BYTES = 32
FINGERPRINT_SETTING = "pulses.key_fingerprint"


class KeyProblem(Exception):
    """The key is missing, unreadable or not the one this database was used with."""


@dataclass(frozen=True)
class Keyring:
    secret: bytes
    # Where the key came from, for `kudos-pulse check` and error messages (never the key).
    source: str

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (e.g. "pulse-tag", "pulse-ballot")."""
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()
        ).derive(self.secret)

    @property
    def fingerprint(self) -> str:
        """Safe to store: says whether two keys are equal, reveals nothing of them."""
        digest = hmac.new(self.secret, b"kudos-pulse key fingerprint", hashlib.sha256)
        return digest.hexdigest()[:16]


class EmailTags:
    """Keyed digests of email addresses. Erasure can find a person by the address their
    platform gave, while a dump of the database (which never holds the key) reveals none."""

    def __init__(self, keyring: Keyring) -> None:
        self._key = keyring.derive("email-lookup")

    def tag(self, email: str) -> str:
        normal = email.strip().lower().encode()
        return hmac.new(self._key, normal, hashlib.sha256).hexdigest()[:32]


def load_keyring(config: Config, *, create: bool) -> Keyring:
    """The pulse key from the environment/app.yaml, else from the key file (created if asked)."""
    if config.pulses.secret:
        return Keyring(config.pulses.secret.encode(), "KUDOS_PULSE_SECRET / pulses.secret")
    path = Path(config.pulses.key_file).expanduser()
    if not path.exists():
        if not create:
            raise KeyProblem(
                f"No pulse key: set KUDOS_PULSE_SECRET or create {path} "
                "(kudos-pulse init does it)."
            )
        _create_key_file(path)
    return Keyring(_read_key_file(path), f"key file {path.resolve()}")


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once cannot both write a key; the loser reads it.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(handle, "w") as file:
        file.write(secrets.token_hex(KEY_BYTES) + "\n")


def _read_key_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        value = path.read_text().strip()
    except OSError as error:
        raise KeyProblem(f"The pulse key file {path} cannot be read: {error.strerror}.") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyProblem(
            f"The pulse key file {path} can be read by others; run `chmod 600 {path}`."
        )
    if len(value) < 32:
        raise KeyProblem(f"The pulse key file {path} holds no usable key (too short).")
    return value.encode()


def mismatch_message(keyring: Keyring, stored: str) -> str:
    return (
        f"This database was first used with another pulse key (fingerprint {stored}; this "
        f"process has {keyring.fingerprint} from {keyring.source}). Every process against one "
        "database needs the same key: copy the original key file or KUDOS_PULSE_SECRET here."
    )


class FingerprintCheck:
    """Refuses pulse work in a process whose key differs from the one the database was first
    used with, instead of sealing answers no other process could open."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        self.db = db
        self.keyring = keyring
        self._checked = False

    async def ensure(self) -> None:
        if self._checked:
            return
        async with self.db.write() as session:
            stored = await settings.get_or_create(
                session, FINGERPRINT_SETTING, lambda: self.keyring.fingerprint
            )
        if stored != self.keyring.fingerprint:
            raise KeyProblem(mismatch_message(self.keyring, stored))
        self._checked = True


TOKENS_PURPOSE = "platform-tokens"


class TokenCipher:
    """Seals platform tokens (Slack bot, user and refresh tokens) stored in the database.

    AES-GCM under a key derived from the pulse key for this purpose only, so the same secret
    that every process against one database already shares (and whose fingerprint the
    database keeps) unlocks them; a dump or backup of the database shows no usable token.
    Each value is bound to its field name, so a sealed token cannot be moved to another field.
    """

    PREFIX = "sealed:v1:"

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._aead = AESGCM(keyring.derive(TOKENS_PURPOSE))

    def seal(self, value: str, field: str) -> str:
        if self.is_sealed(value):
            return value
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), field.encode())
        return self.PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, value: str, field: str) -> str:
        """The token; a value stored before tokens were sealed comes back as it is."""
        if not self.is_sealed(value):
            return value
        raw = base64.urlsafe_b64decode(value.removeprefix(self.PREFIX))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], field.encode()).decode()
        except InvalidTag:
            raise KeyProblem(
                f"A stored {field} was sealed with another pulse key. "
                + "Every process against one database needs the same key."
            ) from None

    @classmethod
    def is_sealed(cls, value: str) -> bool:
        return value.startswith(cls.PREFIX)
