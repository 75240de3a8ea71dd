"""A loopback stand-in for the Bot Framework's published signing keys (OpenID metadata and
its JWK set), with a private key to sign real RS256 tokens as the Bot Framework would."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
KID = "test-key-1"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeBotFrameworkKeys:
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    endorsements: tuple[str, ...] = ("msteams",)
    fetches: int = 0
    server: TestServer | None = None

    @property
    def metadata_url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/v1/.well-known/openidconfiguration"))

    async def start(self) -> FakeBotFrameworkKeys:
        app = web.Application()
        app.router.add_get("/v1/.well-known/openidconfiguration", self._metadata)
        app.router.add_get("/v1/keys", self._keys)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    def token(
        self,
        app_id: str,
        service_url: str,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str = KID,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        """A token as the Bot Framework signs it; `claims` override, `drop` removes."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 60,
            "exp": now + 3600,
            **claims,
        }
        for name in drop:
            payload.pop(name, None)
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid})

    async def _metadata(self, request: web.Request) -> web.Response:
        assert self.server is not None
        return web.json_response(
            {"issuer": ISSUER, "jwks_uri": str(self.server.make_url("/v1/keys"))}
        )

    async def _keys(self, request: web.Request) -> web.Response:
        self.fetches += 1
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk |= {"kid": KID, "use": "sig", "endorsements": list(self.endorsements)}
        return web.json_response({"keys": [jwk]})
