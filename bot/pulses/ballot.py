"""The sealed ballot box of an open pulse round.

While a round is open, its answers live in a few sealed buckets (AES-GCM, a key derived from
the pulse key, which never lives in the database). An answer rewrites one bucket, chosen by
the respondent's tag, so the database holds no row per answer: no answer row whose
transaction id, physical position or insertion order could be lined up with anything else.
What a dump shows of an open round is a handful of ciphertexts of equal-width entries; every
older version of a bucket (dead tuples, WAL, free pages) is sealed the same way.

A respondent's tag is HMAC(tag key, round, stable platform identity): the same person in the
same round always finds (and may replace) their own answer, and reminders can tell who has not
answered — both only inside a process that holds the key. At close the buckets are opened, the
answers become a tally and shuffled comments, and the buckets are deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.ops.keys import Keyring

BUCKETS = 8
# Every entry is padded to this width, so a bucket's size says how many answers it holds and
# nothing about any comment's length. Comments are at most 1,000 characters (≤ 4,000 bytes).
ENTRY_BYTES = 4200
_NONCE_BYTES = 12


@dataclass(frozen=True)
class Answer:
    easy: int
    value: int
    comment: str | None = None


class BallotUnreadable(Exception):
    """A bucket was sealed under another key (or tampered with)."""


class BallotBox:
    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._tag_key = keyring.derive("pulse-respondent-tag")
        self._seal = AESGCM(keyring.derive("pulse-ballot"))

    def tag(self, round_id: int, identity: str) -> str:
        """The respondent's pseudonym in one round; `identity` is a stable platform identity."""
        message = f"{round_id}\x00{identity}".encode()
        return hmac.new(self._tag_key, message, hashlib.sha256).hexdigest()[:32]

    @staticmethod
    def bucket_of(tag: str) -> int:
        return int(tag[:4], 16) % BUCKETS

    def seal(self, round_id: int, bucket: int, answers: dict[str, Answer]) -> bytes:
        # Entries in tag order: the sealed order says nothing about who answered first.
        plain = b"".join(_entry(tag, answers[tag]) for tag in sorted(answers))
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._seal.encrypt(nonce, plain, _context(round_id, bucket))

    def open(self, round_id: int, bucket: int, sealed: bytes | None) -> dict[str, Answer]:
        if not sealed:
            return {}
        nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
        try:
            plain = self._seal.decrypt(nonce, body, _context(round_id, bucket))
        except InvalidTag:
            raise BallotUnreadable(
                f"pulse {round_id}: its answers were sealed with another pulse key"
            ) from None
        return dict(_entries(plain))


def _context(round_id: int, bucket: int) -> bytes:
    # Bound to its place: a bucket copied to another round or bucket does not open.
    return f"pulse-round:{round_id}:bucket:{bucket}".encode()


def _entry(tag: str, answer: Answer) -> bytes:
    raw = json.dumps(
        [tag, answer.easy, answer.value, answer.comment], ensure_ascii=False
    ).encode()
    if len(raw) >= ENTRY_BYTES:
        raise ValueError("answer too large to seal")
    return raw + b" " * (ENTRY_BYTES - len(raw))


def _entries(plain: bytes) -> Iterable[tuple[str, Answer]]:
    for start in range(0, len(plain), ENTRY_BYTES):
        tag, easy, value, comment = json.loads(plain[start : start + ENTRY_BYTES])
        yield tag, Answer(easy=easy, value=value, comment=comment)
