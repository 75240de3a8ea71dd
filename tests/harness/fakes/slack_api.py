"""A fake Slack Web API on 127.0.0.1: records every call, answers like Slack, misbehaves on cue.

Point the bot at it with `SLACK_API_URL=fake.api_url`. It serves the methods the bot uses,
a `response_url` endpoint, and can be told to answer slowly (`delay`), with HTTP 429 and
`Retry-After` (`rate_limit`), with `ok: false` errors (`fail`), or to post a message and then
fail the call anyway (`post_then_fail`).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_sdk.models.blocks import Block

TEAM = "T0TEST"
BOT_USER = "UBOT"


def _user(uid: str, name: str, tz: str, **flags: Any) -> dict[str, Any]:
    return {
        "id": uid,
        "team_id": TEAM,
        "name": name,
        "real_name": name.title(),
        "tz": tz,
        "is_bot": flags.get("is_bot", False),
        "is_admin": flags.get("is_admin", False),
        "is_owner": flags.get("is_owner", False),
        "profile": {"display_name": name, "real_name": name.title()},
    }


def crowd(size: int) -> dict[str, dict[str, Any]]:
    """`size` ordinary people U0000000 … (for benchmarks)."""
    zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"]
    return {
        f"U{n:07d}": _user(f"U{n:07d}", f"person{n}", zones[n % len(zones)]) for n in range(size)
    }


def default_users() -> dict[str, dict[str, Any]]:
    users = [
        _user("UALICE", "alice", "Europe/Berlin"),
        _user("UBOB", "bob", "America/New_York"),
        _user("UCAROL", "carol", "Asia/Tokyo"),
        _user("UDAN", "dan", "Europe/London"),
        _user("UERIN", "erin", "UTC"),
        _user("UFRANK", "frank", "UTC"),
        _user("UGINA", "gina", "Australia/Sydney"),
        _user("UADMIN", "admin-anna", "Europe/Paris", is_admin=True),
        _user("UOWNER", "owner-olga", "Europe/Paris", is_owner=True),
        _user("UDEPLOY", "deploybot", "UTC", is_bot=True),
        _user(BOT_USER, "kudos", "UTC", is_bot=True),
    ]
    return {user["id"]: user for user in users}


@dataclass
class Call:
    method: str
    token: str | None
    args: dict[str, Any]


@dataclass
class Upload:
    """A file that went through files.getUploadURLExternal → POST → files.completeUploadExternal."""

    file_id: str
    filename: str
    data: bytes
    channel: str | None = None
    title: str = ""
    alt_text: str = ""
    initial_comment: str = ""


@dataclass
class FakeSlack:
    users: dict[str, dict[str, Any]] = field(default_factory=default_users)
    channels: dict[str, list[str]] = field(default_factory=dict)
    # Channels shared with another organisation (Slack Connect): conversations.info says so.
    shared_channels: set[str] = field(default_factory=set)
    # (channel, ts) → message, for conversations.history / replies
    history: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # channel → what chat.postMessage put there (oldest first), for conversations.history
    timeline: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Seconds since the epoch that posted messages' ts are taken from (a test's clock);
    # None: a fixed, made-up time.
    ts_clock: Callable[[], float] | None = None
    # Seconds to wait before answering any call (a slow Slack).
    delay: float = 0.0
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 2
    # Benchmarks run for a long time: they need the answers, not a record of every call.
    record: bool = True
    # What the next oauth.v2.access calls answer (oldest first); empty: a plain workspace
    # install of T0NEW. See `workspace_install` and `org_install`.
    installs: deque[dict[str, Any]] = field(default_factory=deque)
    # The installs the fake issued tokens for: token → (team or "", enterprise or "").
    issued: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Share of chat.postMessage calls that post the message and fail all the same: answer 500,
    # or — every other one, when `stall` is set — say nothing for `stall` seconds (past the
    # client's timeout) first. Drawn from a seeded generator, so a run repeats.
    post_then_fail: float = 0.0
    stall: float = 0.0
    seed: int = 14
    # How many posts were stored and then failed.
    posted_then_failed: int = 0
    # method → the most calls of it the fake was answering at one time.
    most_at_once: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._script: dict[str, deque[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self._ts = itertools.count(1)
        self._answering: Counter[str] = Counter()
        self._draws = random.Random(self.seed)
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Socket Mode: the bot's open connection, and the envelope acks it sent back.
        self.socket_acks: list[dict[str, Any]] = []
        self._socket_open = asyncio.Event()
        self._ws: web.WebSocketResponse | None = None
        # Files: announced by getUploadURLExternal, bytes by POST, shared by completeUpload.
        self._files: dict[str, Upload] = {}
        self._file_ids = itertools.count(1)
        self.uploads: list[Upload] = []

    # -- control ---------------------------------------------------------------------------

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        for _ in range(times):
            self._queue(
                method,
                429,
                {"ok": False, "error": "ratelimited"},
                {"Retry-After": str(retry_after)},
            )

    def fail(self, method: str, error: str, times: int = 1) -> None:
        for _ in range(times):
            self._queue(method, 200, {"ok": False, "error": error}, {})

    def answer_status(self, method: str, status: int, error: str, times: int = 1) -> None:
        """Answer the next calls of `method` with HTTP `status` and nothing done."""
        for _ in range(times):
            self._queue(method, status, {"ok": False, "error": error}, {})

    def _queue(
        self, method: str, status: int, body: dict[str, Any], headers: dict[str, str]
    ) -> None:
        self._script.setdefault(method, deque()).append((status, body, headers))

    def to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        server = web.Application()
        server.router.add_route("*", "/api/{method}", self._api)
        server.router.add_post("/respond/{name}", self._respond)
        server.router.add_get("/socket", self._socket)
        server.router.add_post("/upload/{file_id}", self._upload)
        self._runner = web.AppRunner(server, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- HTTP ------------------------------------------------------------------------------

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.record:
            self.responses.append({"name": request.match_info["name"], **body})
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(text="ok")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(await request.post())
        if self.record:
            self.calls.append(Call(method, _token(request), args))
        self._answering[method] += 1
        self.most_at_once[method] = max(self.most_at_once[method], self._answering[method])
        try:
            return await self._answer(method, request, args)
        finally:
            self._answering[method] -= 1

    async def _answer(
        self, method: str, request: web.Request, args: dict[str, Any]
    ) -> web.Response:
        if self.delay:
            await asyncio.sleep(self.delay)
        scripted = self._script.get(method)
        if scripted:
            status, body, headers = scripted.popleft()
            return web.json_response(body, status=status, headers=headers)
        if method == "chat.postMessage" and self._draws.random() < self.post_then_fail:
            self._chat_postMessage(args)
            self.posted_then_failed += 1
            if self.stall and self.posted_then_failed % 2 == 0:
                await asyncio.sleep(self.stall)
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        if method == "users.info":
            return web.json_response(self._users_info(args, _token(request)))
        return web.json_response(handler(args))

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._ws = socket
        self._socket_open.set()
        await socket.send_json({"type": "hello", "num_connections": 1})
        async for frame in socket:
            if frame.type == web.WSMsgType.TEXT:
                self.socket_acks.append(json.loads(frame.data))
        return socket

    async def push(self, envelope: dict[str, Any]) -> None:
        """Deliver one Socket Mode envelope to the connected bot."""
        await asyncio.wait_for(self._socket_open.wait(), timeout=10)
        assert self._ws is not None
        await self._ws.send_json(envelope)

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload_url: Slack takes the bytes raw or as a multipart form's file."""
        upload = self._files.get(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="unknown upload")
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            part = next(iter(form.values()))
            upload.data = part.file.read() if hasattr(part, "file") else str(part).encode()
        else:
            upload.data = await request.read()
        return web.Response(text=f"OK - {len(upload.data)}")

    # -- methods ---------------------------------------------------------------------------

    def _files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length") or "").isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):08d}"
        self._files[file_id] = Upload(
            file_id, str(args["filename"]), b"", alt_text=str(args.get("alt_txt") or "")
        )
        return {
            "ok": True,
            "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}",
            "file_id": file_id,
        }

    def _files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files") or "[]"
        files = json.loads(files) if isinstance(files, str) else files
        done = []
        for entry in files:
            upload = self._files.pop(str(entry.get("id")), None)
            if upload is None or not upload.data:
                return {"ok": False, "error": "file_not_found"}
            upload.channel = args.get("channel_id") or args.get("channels")
            upload.title = str(entry.get("title") or "")
            upload.initial_comment = str(args.get("initial_comment") or "")
            if self.record:
                self.uploads.append(upload)
            done.append({"id": upload.file_id, "title": upload.title, "name": upload.filename})
        return {"ok": True, "files": done}

    def _files_info(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "file": {"id": args.get("file"), "name": "chart.png"}}

    def _apps_connections_open(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"}

    def _auth_test(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "team_id": TEAM,
            "team": "Acme",
            "user_id": BOT_USER,
            "bot_id": "B1",
            "url": "https://acme.slack.com/",
        }

    def _users_info(self, args: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        user = self.users.get(str(args.get("user")))
        if not user:
            return {"ok": False, "error": "user_not_found"}
        team, _org = self.issued.get(token or "", ("", ""))
        if user.get("team_id") == TEAM and team:
            # The stock people belong to whichever workspace installed the app.
            user = {**user, "team_id": team}
        return {"ok": True, "user": user}

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        members = self.channels.get(str(args.get("channel")))
        if members is None:
            return {"ok": False, "error": "channel_not_found"}
        start = int(args.get("cursor") or 0)
        page = members[start : start + self.page_size]
        following = start + self.page_size
        cursor = str(following) if following < len(members) else ""
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        return {
            "ok": True,
            "channel": {"id": channel, "is_ext_shared": channel in self.shared_channels},
        }

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": {"id": "D" + str(args.get("users")).split(",")[0]}}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        found = self.history.get((channel, str(args.get("latest"))))
        if found:
            return {"ok": True, "messages": [found]}
        # Newest first, after `oldest`, `limit` per page; metadata only when asked for.
        oldest = float(args.get("oldest") or 0)
        newest_first = [
            m for m in reversed(self.timeline.get(channel, [])) if float(m["ts"]) > oldest
        ]
        start = int(args.get("cursor") or 0)
        limit = int(args.get("limit") or 100)
        page = newest_first[start : start + limit]
        with_metadata = str(args.get("include_all_metadata")).lower() in {"1", "true"}
        messages = [
            {key: value for key, value in m.items() if with_metadata or key != "metadata"}
            for m in page
        ]
        following = start + limit
        cursor = str(following) if following < len(newest_first) else ""
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(cursor),
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        found = self.history.get((str(args.get("channel")), str(args.get("ts"))))
        return {"ok": True, "messages": [found] if found else []}

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = str(args.get("channel"))
        if channel.startswith("U"):
            channel = "D" + channel  # a user id posts into the bot's DM with them
        ts = self._next_ts()
        posted: dict[str, Any] = {"type": "message", "ts": ts, "bot_id": "B1", "user": BOT_USER}
        posted["text"] = args.get("text", "")
        if args.get("metadata"):
            metadata = args["metadata"]
            posted["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        if self.record:
            self.timeline.setdefault(channel, []).append(posted)
        return {"ok": True, "channel": channel, "ts": ts}

    def _next_ts(self) -> str:
        seconds = int(self.ts_clock()) if self.ts_clock else 1700000000
        return f"{seconds}.{next(self._ts):06d}"

    def _chat_postEphemeral(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}

    def _views_open(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": {"id": "V1", "hash": "h1"}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        return {"ok": True, "view": {"id": "VHOME", "type": "home", **(view or {})}}

    def _oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        answer = self.installs.popleft() if self.installs else workspace_install("T0NEW")
        team = (answer.get("team") or {}).get("id") or ""
        org = (answer.get("enterprise") or {}).get("id") or ""
        self.issued[answer["access_token"]] = (team, org)
        return answer

    def _auth_revoke(self, _args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "revoked": True}


def workspace_install(
    team: str, *, org: str | None = None, token: str = "xoxb-installed"
) -> dict[str, Any]:
    """oauth.v2.access for one workspace (inside the Grid org `org`, if given), shaped as
    https://docs.slack.dev/reference/methods/oauth.v2.access documents it."""
    return {
        "ok": True,
        "app_id": "A1",
        "access_token": token,
        "token_type": "bot",
        "scope": "commands,chat:write",
        "bot_user_id": BOT_USER,
        "team": {"id": team, "name": f"Workspace {team}"},
        "enterprise": {"id": org, "name": f"Org {org}"} if org else None,
        "is_enterprise_install": False,
        "authed_user": {"id": "UINSTALLER"},
    }


def org_install(org: str, *, token: str = "xoxb-org-wide") -> dict[str, Any]:
    """oauth.v2.access for an org-wide Enterprise Grid install: the org, and no team."""
    return {
        "ok": True,
        "app_id": "A1",
        "access_token": token,
        "token_type": "bot",
        "scope": "commands,chat:write",
        "bot_user_id": BOT_USER,
        "team": None,
        "enterprise": {"id": org, "name": f"Org {org}"},
        "is_enterprise_install": True,
        "authed_user": {"id": "WINSTALLER"},
    }


def _token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ")
    if header.startswith("Basic "):
        return "basic:" + base64.b64decode(header.removeprefix("Basic ")).decode().split(":")[0]
    return None


def published_homes(fake: FakeSlack) -> dict[str, dict[str, Any]]:
    """The latest Home tab view published for each user id (views.publish)."""
    homes: dict[str, dict[str, Any]] = {}
    for call in fake.to("views.publish"):
        view = call.args.get("view")
        homes[str(call.args.get("user_id"))] = json.loads(view) if isinstance(view, str) else view
    return homes


def blocks_of(call: Call) -> list[dict[str, Any]]:
    blocks = call.args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def block_text(blocks: list[dict[str, Any]]) -> str:
    """All visible text of a list of blocks, for assertions."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in {"mrkdwn", "plain_text"} and "text" in node:
                parts.append(str(node["text"]))
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(parts)


def assert_valid_block_kit(blocks: list[dict[str, Any]]) -> None:
    """Each block parses as a known Block Kit block and passes slack_sdk's limit checks."""
    assert 0 < len(blocks) <= 50, f"{len(blocks)} blocks"
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None, f"unknown block: {raw}"
        parsed.validate_json()


async def serve_forever(delay: float, people: int) -> None:
    """Run as its own process (benchmarks): print the port, answer until killed."""
    fake = FakeSlack(delay=delay)
    fake.users.update(crowd(people))
    fake.record = False
    await fake.start()
    print(f"PORT {fake.port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="fake Slack Web API on 127.0.0.1")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--people", type=int, default=0)
    options = parser.parse_args()
    asyncio.run(serve_forever(options.delay, options.people))
