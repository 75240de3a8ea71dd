"""A loopback stand-in for Slack's auth.test and Microsoft's token endpoint (for `check`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class FakeCredentials:
    slack_token: str = "xoxb-good-token"
    app_id: str = "11111111-2222-3333-4444-555555555555"
    app_password: str = "good~password"
    requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/"))

    async def start(self) -> FakeCredentials:
        app = web.Application()
        app.router.add_post("/api/auth.test", self._auth_test)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        self.server = TestServer(app, host="127.0.0.1", port=0)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _auth_test(self, request: web.Request) -> web.Response:
        self.requests.append(("auth.test", {"authorization": request.headers.get("Authorization")}))
        if request.headers.get("Authorization") != f"Bearer {self.slack_token}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(
            {"ok": True, "team": "Acme", "team_id": "T0ACME", "user": "kudos", "user_id": "U0BOT"}
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append(("token", {"tenant": request.match_info["tenant"], **form}))
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_id") != self.app_id
            or form.get("client_secret") != self.app_password
        ):
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                },
                status=401,
            )
        return web.json_response(
            {"token_type": "Bearer", "expires_in": 3599, "access_token": "eyJ0.eyJ0.sig"}
        )
