"""The checks in front of botbuilder for each POST /api/messages: a bad token is 401, a bad
body 400/413/415 — each answered cheaply, logged once at DEBUG without the body or the token
(and counted, with a summary line at most once a minute), and before anything is stored.
Faults of our own (e.g. the key set cannot be fetched) are not caught here: they stay 500s that
alerts see."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from botbuilder.schema import Activity, CallerIdConstants
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
)
from msrest.exceptions import DeserializationError

from adapters.teams.auth import BotFrameworkAuth, Unauthorized
from bot.ops.metrics import RejectionTally

log = logging.getLogger(__name__)

# What botbuilder's `process_activity` takes: a checked identity, or "" when anonymous.
Authenticated = AuthenticateRequestResult | str


class Rejected(Exception):
    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status
        self.why = why

    def response(self) -> web.Response:
        response = web.Response(status=self.status, text=self.why)
        # Close instead of reading and discarding the rest of an unwanted body.
        response.force_close()
        return response


class TeamsGate:
    """`auth` is None when no app id is configured: anonymous requests, as botbuilder allows
    for local testing (the Bot Framework Emulator)."""

    def __init__(
        self, framework: BotFrameworkAuthentication, auth: BotFrameworkAuth | None
    ) -> None:
        self.framework = framework
        self.auth = auth
        self.tally = RejectionTally("teams", log)

    async def admit(self, request: web.Request) -> tuple[Activity, Authenticated]:
        """The request's activity and what botbuilder's `process_activity` takes as its
        authentication; raises `Rejected`."""
        try:
            token = (
                self.auth.token_of(request.headers.get("Authorization", "")) if self.auth else ""
            )
            body = await _json_object(request)
            try:
                activity = Activity().deserialize(body)
            except DeserializationError:
                raise Rejected(400, "not an activity") from None
            if not isinstance(activity.type, str) or not activity.type:
                raise Rejected(400, "not an activity")
            if self.auth is None:
                return activity, ""  # anonymous: botbuilder's own handling, as before
            claims = await self.auth.claims(token, body)
        except Unauthorized as refused:
            self.tally.count(401)
            raise _rejected(401, str(refused)) from None
        except Rejected as rejected:
            self.tally.count(rejected.status)
            raise _rejected(rejected.status, rejected.why) from None
        return activity, self._authenticated(claims)

    def _authenticated(self, claims: dict[str, Any]) -> AuthenticateRequestResult:
        identity = ClaimsIdentity(claims, True)
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = self.framework.get_originating_audience()
        result.caller_id = CallerIdConstants.public_azure_channel
        result.connector_factory = self.framework.create_connector_factory(identity)
        return result


async def _json_object(request: web.Request) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise Rejected(415, "expected application/json")
    try:
        raw = await request.read()  # capped by the server's client_max_size (1 MiB)
    except web.HTTPRequestEntityTooLarge:
        raise Rejected(413, "body too large") from None
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Rejected(400, "body is not JSON") from None
    if not isinstance(body, dict):
        raise Rejected(400, "body is not a JSON object")
    return body


def _rejected(status: int, why: str) -> Rejected:
    log.debug("teams request rejected: %s (%d)", why, status)
    return Rejected(status, why)
