"""The respondent key: HMAC(secret, round + person). Answers are never stored beside a user id.

The secret comes from config (`pulses.secret` / KUDOS_PULSE_SECRET) or is generated once and
shared by every process through `app_settings`. Without it, a stored answer cannot be tied to
a person; with it, only someone who also holds the database could try.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.ops.config import Config
from storage.db import Database
from storage.repositories import settings

SETTING_KEY = "pulses.secret"


class Anonymizer:
    def __init__(self, db: Database, config: Config) -> None:
        self.db = db
        self._secret: bytes | None = config.pulses.secret.encode() if config.pulses.secret else None

    async def _key(self) -> bytes:
        if self._secret is None:
            async with self.db.write() as session:
                value = await settings.get_or_create(
                    session, SETTING_KEY, lambda: secrets.token_hex(32)
                )
            self._secret = value.encode()
        return self._secret

    async def respondent(self, round_id: int, person_id: int) -> str:
        message = f"pulse-round:{round_id}:person:{person_id}".encode()
        return hmac.new(await self._key(), message, hashlib.sha256).hexdigest()
