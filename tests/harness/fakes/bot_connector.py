"""A fake Bot Framework connector (the Teams service the bot calls back), on 127.0.0.1:0.

It records every activity posted, updated and every conversation created, serves a roster
(paged and by member id or AAD object id), and can be told to answer the next activity posts
with an error status (429 with or without Retry-After, 403 …), or to deliver a post and fail
the call all the same (`post_then_fail`).
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Posted:
    conversation_id: str
    activity: dict[str, Any]
    reply_to: str | None = None
    id: str = ""  # the id the connector gave the posted activity

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    @property
    def card(self) -> dict[str, Any] | None:
        for attachment in self.activity.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return attachment["content"]
        return None

    @property
    def card_text(self) -> str:
        """Every text of the card (TextBlocks, facts), in order, one per line."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") == "TextBlock":
                    found.append(node["text"])
                if node.get("type") == "FactSet":
                    found.extend(f"{fact['title']}: {fact['value']}" for fact in node["facts"])
                for key, child in node.items():
                    if key != "msteams":
                        walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        walk(self.card)
        return "\n".join(found)

    @property
    def shown(self) -> str:
        return self.card_text if self.card is not None else self.text

    @property
    def mentioned_ids(self) -> list[str]:
        return [
            entity["mentioned"]["id"]
            for entity in self.activity.get("entities") or []
            if entity.get("type") == "mention"
        ]


@dataclass
class FakeConnector:
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # roster, by 29: id
    posted: list[Posted] = field(default_factory=list)
    updated: list[Posted] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    # (status, headers) answers for the next activity posts
    failures: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    failed_posts: int = 0
    # (status, headers) answers for the next conversation creations
    create_failures: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    page_limit: int = 3  # the most members one page holds, whatever the bot asks for
    # Share of activity posts that are delivered and fail all the same: answered 500, or —
    # every other one — with the connection dropped instead of an answer. Seeded: a run repeats.
    post_then_fail: float = 0.0
    posted_then_failed: int = 0
    _draws: Any = field(default_factory=lambda: random.Random(14))
    url: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    # Seconds a member look-up takes (a slow connector), how many were asked for, and the
    # most that were being answered at one time.
    member_delay: float = 0.0
    member_look_ups: list[str] = field(default_factory=list)
    most_members_at_once: int = 0
    _answering_members: int = 0

    def add_member(self, user_id: str, name: str, aad_object_id: str | None = None) -> None:
        self.members[user_id] = {
            "id": user_id,
            "name": name,
            "aadObjectId": aad_object_id or f"aad-{name.lower()}",
            "givenName": name,
            "userPrincipalName": f"{name.lower()}@contoso.example",
            "email": f"{name.lower()}@contoso.example",
            "tenantId": "tenant-1",
            "userRole": "user",
        }

    def to(self, conversation_id: str) -> list[Posted]:
        return [post for post in self.posted if post.conversation_id == conversation_id]

    def conversation_of(self, user_id: str) -> str | None:
        """The 1:1 conversation id created for `user_id`, if one was."""
        for index, created in enumerate(self.created, start=1):
            if any(member["id"] == user_id for member in created.get("members", [])):
                return f"a:created-{index}"
        return None

    # -- server ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        application = web.Application()
        base = "/v3/conversations"
        application.router.add_post(base, self._create)
        application.router.add_post(base + "/{cid}/activities", self._post)
        application.router.add_post(base + "/{cid}/activities/{aid}", self._post)
        application.router.add_put(base + "/{cid}/activities/{aid}", self._update)
        application.router.add_get(base + "/{cid}/pagedmembers", self._paged)
        application.router.add_get(base + "/{cid}/members/{mid}", self._member)
        return application

    async def _create(self, request: web.Request) -> web.Response:
        if self.create_failures:
            status, headers = self.create_failures.popleft()
            return web.json_response(
                {"error": {"code": "Forbidden", "message": "no"}}, status=status, headers=headers
            )
        body = await request.json()
        self.created.append(body)
        return web.json_response(
            {"id": f"a:created-{len(self.created)}", "activityId": "", "serviceUrl": self.url},
            status=201,
        )

    async def _post(self, request: web.Request) -> web.Response:
        if self.failures:
            status, headers = self.failures.popleft()
            self.failed_posts += 1
            return web.json_response(
                {"error": {"code": "Throttled" if status == 429 else "Forbidden", "message": "no"}},
                status=status,
                headers=headers,
            )
        body = await request.json()
        posted = Posted(
            request.match_info["cid"],
            body,
            reply_to=request.match_info.get("aid"),
            id=f"activity-{next(self._ids)}",
        )
        self.posted.append(posted)
        if self._draws.random() < self.post_then_fail:
            self.posted_then_failed += 1
            if self.posted_then_failed % 2 == 0 and request.transport is not None:
                request.transport.abort()  # delivered, but the caller never hears of it
            return web.json_response({"error": {"code": "ServiceError"}}, status=500)
        return web.json_response({"id": posted.id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.updated.append(Posted(request.match_info["cid"], body, request.match_info["aid"]))
        return web.json_response({"id": request.match_info["aid"]})

    async def _paged(self, request: web.Request) -> web.Response:
        size = min(self.page_limit, int(request.query.get("pageSize", "50")))
        start = int(request.query.get("continuationToken", "0"))
        everyone = list(self.members.values())
        page = everyone[start : start + size]
        token = str(start + size) if start + size < len(everyone) else None
        return web.json_response({"members": page, "continuationToken": token})

    async def _member(self, request: web.Request) -> web.Response:
        self.member_look_ups.append(request.match_info["mid"])
        self._answering_members += 1
        self.most_members_at_once = max(self.most_members_at_once, self._answering_members)
        try:
            if self.member_delay:
                await asyncio.sleep(self.member_delay)
            return self._member_answer(request.match_info["mid"])
        finally:
            self._answering_members -= 1

    def _member_answer(self, wanted: str) -> web.Response:
        for member in self.members.values():
            if wanted in (member["id"], member["aadObjectId"]):
                return web.json_response(member)
        return web.json_response(
            {"error": {"code": "MemberNotFoundInConversation", "message": "not found"}},
            status=404,
        )


async def start_connector(connector: FakeConnector) -> web.AppRunner:
    runner = web.AppRunner(connector.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    connector.url = f"http://127.0.0.1:{port}/"
    return runner
