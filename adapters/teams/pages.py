"""The simple privacy and terms pages the Teams package links to when no others are configured.

Teams requires `privacyUrl` and `termsOfUseUrl` in every app package and shows them in the
app's details; an operator with their own pages sets `teams.privacy_url` / `teams.terms_url`.
"""

from __future__ import annotations

import html

from aiohttp import web

from bot.ops.config import Config

PRIVACY_PATH = "/privacy"
TERMS_PATH = "/terms"

_PRIVACY = """<p>{name} keeps what it needs to run kudos, pulses and digests inside your
organisation: who gave kudos to whom and why, team memberships and schedules, and the names and
time zones your chat platform shares with it. Pulse answers are anonymous: they are sealed
without the name of who gave them, and results are shown only when enough people answered.</p>
<p>This data stays in the database of whoever runs this bot and is not shared with anyone else.
Ask your administrator to export or erase what is kept about you.</p>"""

_TERMS = """<p>{name} is provided by your organisation's administrators, as is, to thank
colleagues and to ask short pulses. Use it as your organisation's rules for chat ask; your
administrators decide how long its data is kept.</p>"""


def _page(title: str, name: str, body: str) -> web.Response:
    safe = html.escape(name)
    text = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{safe} — {title}</title>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:2em auto'>"
        f"<h1>{safe} — {title}</h1>{body.format(name=safe)}</body></html>"
    )
    return web.Response(text=text, content_type="text/html")


def mount(web_app: web.Application, config: Config) -> None:
    name = config.bot_name

    async def privacy(_request: web.Request) -> web.Response:
        return _page("Privacy", name, _PRIVACY)

    async def terms(_request: web.Request) -> web.Response:
        return _page("Terms of use", name, _TERMS)

    web_app.router.add_get(PRIVACY_PATH, privacy)
    web_app.router.add_get(TERMS_PATH, terms)


def privacy_url(config: Config, base: str) -> str:
    return config.teams.privacy_url or f"{base}{PRIVACY_PATH}"


def terms_url(config: Config, base: str) -> str:
    return config.teams.terms_url or f"{base}{TERMS_PATH}"
