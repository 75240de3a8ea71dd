"""Who may post to /api/messages: the Bot Framework's JWT, checked before botbuilder runs.

botbuilder's own check answers most forgeries with exceptions other than `PermissionError`
(so 500 and a traceback), accepts a token without `exp` and fetches its keys with blocking
calls. Here a token must be RS256, signed by a key from the Bot Framework's published key set,
issued by the Bot Framework for this bot, and carry `exp`; anything else is `Unauthorized`.
A failure to fetch the key set is not: it is our fault, and stays visible as one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt

ISSUER = "https://api.botframework.com"
ALGORITHM = "RS256"
# Clock skew the Bot Framework tolerates (botbuilder's `clock_tolerance`).
LEEWAY = 300
# Keys are refreshed daily; a token naming an unknown key refreshes them at most this often,
# so a flood of made-up key ids costs no fetches.
KEYS_MAX_AGE = 24 * 3600
UNKNOWN_KEY_REFRESH = 300


class Unauthorized(Exception):
    """The request does not carry a valid Bot Framework token (the reason, never the token)."""


@dataclass(frozen=True)
class _Key:
    key: jwt.PyJWK
    endorsements: frozenset[str]


class KeySet:
    """The Bot Framework's signing keys, from its OpenID metadata document."""

    def __init__(self, metadata_url: str, *, timeout: float = 10.0) -> None:
        self.metadata_url = metadata_url
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._keys: dict[str, _Key] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> _Key:
        stale = self._age() > KEYS_MAX_AGE
        if stale or (kid not in self._keys and self._age() > UNKNOWN_KEY_REFRESH):
            async with self._lock:  # one fetch for all the requests that wait on it
                if self._age() > UNKNOWN_KEY_REFRESH:
                    await self._refresh()
        found = self._keys.get(kid)
        if found is None:
            raise Unauthorized("unknown signing key")
        return found

    def _age(self) -> float:
        return float("inf") if self._fetched_at is None else time.monotonic() - self._fetched_at

    async def _refresh(self) -> None:
        async with aiohttp.ClientSession(timeout=self._timeout) as http:
            async with http.get(self.metadata_url) as response:
                response.raise_for_status()
                jwks_uri = (await response.json(content_type=None))["jwks_uri"]
            async with http.get(jwks_uri) as response:
                response.raise_for_status()
                document = await response.json(content_type=None)
        keys: dict[str, _Key] = {}
        for entry in document.get("keys", []):
            if isinstance(entry.get("kid"), str) and entry.get("kty") == "RSA":
                keys[entry["kid"]] = _Key(
                    jwt.PyJWK(entry, algorithm=ALGORITHM),
                    frozenset(entry.get("endorsements") or ()),
                )
        self._keys = keys
        self._fetched_at = time.monotonic()


class BotFrameworkAuth:
    def __init__(self, app_id: str, keys: KeySet) -> None:
        self.app_id = app_id
        self.keys = keys

    @staticmethod
    def token_of(authorization: str) -> str:
        """The bearer token, if it is shaped like an RS256 JWT; checked before the body is read."""
        scheme, _, token = authorization.partition(" ")
        if scheme != "Bearer" or not token:
            raise Unauthorized("no bearer token")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("malformed token") from None
        if header.get("alg") != ALGORITHM or not isinstance(header.get("kid"), str):
            raise Unauthorized("not an RS256 token with a key id")
        return token

    async def claims(self, token: str, activity: Mapping[str, Any]) -> dict[str, Any]:
        """The verified claims of `token` for `activity` (its channel and service URL)."""
        key = await self.keys.get(jwt.get_unverified_header(token)["kid"])
        if key.endorsements and activity.get("channelId") not in key.endorsements:
            raise Unauthorized("key not endorsed for this channel")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.app_id,
                issuer=ISSUER,
                leeway=LEEWAY,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(type(error).__name__) from None
        service_url = claims.get("serviceurl")
        if service_url and service_url != activity.get("serviceUrl"):
            raise Unauthorized("token issued for another service URL")
        return claims
