"""Multi-workspace install: the OAuth flow stores the installation in our database."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import SlackInstallation, SlackOAuthState
from tests.harness.fakes.slack_api import FakeSlack
from tests.harness.helpers import count
from tests.harness.slack import running, slack_config

pytestmark = pytest.mark.asyncio


async def test_installing_stores_the_workspace_and_its_token_is_used(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> None:
    oauth = slack_config(
        config, fake_slack, bot_token=None, client_id="111.222", client_secret="shh"
    )
    async with running(oauth, db, clock, fake_slack) as slack:
        page = await slack.client.get("/slack/install", allow_redirects=False)
        assert page.status == 200
        html = await page.text()
        state = re.search(r"state=([\w-]+)", html)
        assert state is not None and "client_id=111.222" in html
        assert await count(db, SlackOAuthState) == 1

        # The state cookie is Secure (https only), so the test browser hands it over itself.
        cookie = {"Cookie": "; ".join(f"{k}={v.value}" for k, v in page.cookies.items())}
        done = await slack.client.get(
            f"/slack/oauth_redirect?code=c0de&state={state.group(1)}",
            allow_redirects=False,
            headers=cookie,
        )
        assert done.status == 200, await done.text()
        exchange = slack.fake.to("oauth.v2.access")
        assert len(exchange) == 1 and exchange[0].args["code"] == "c0de"
        assert exchange[0].token == "basic:111.222"
        async with db.read() as unit:
            session = unit.session
            stored = (await session.exec(select(SlackInstallation))).one()
        assert (stored.team_id, stored.client_id) == ("T0NEW", "111.222")
        # Sealed at rest; the token in use is still the installed one (the posts below).
        assert stored.data["bot_token"].startswith("sealed:v1:")
        assert "xoxb-" not in str(stored.data)
        assert await count(db, SlackOAuthState) == 0  # a state works once

        replay = await slack.client.get(
            f"/slack/oauth_redirect?code=c0de&state={state.group(1)}",
            allow_redirects=False,
            headers=cookie,
        )
        assert replay.status != 200
        assert await count(db, SlackInstallation) == 1

        await slack.command("<@UBOB|bob> for onboarding us to Slack #easy", team="T0NEW")
        await slack.settle()
        posts = slack.fake.to("chat.postMessage")
        assert {call.args["channel"] for call in posts} == {"CGENERAL", "UBOB"}
        assert {call.token for call in posts} == {"xoxb-installed"}

        uninstalled = await slack.event({"type": "app_uninstalled"}, team="T0NEW")
        assert uninstalled.status == 200
        await slack.settle()
        assert await count(db, SlackInstallation) == 0


async def test_an_unknown_workspace_is_not_answered(
    config: Config, db: Database, clock: ManualClock, fake_slack: FakeSlack
) -> None:
    oauth = slack_config(
        config, fake_slack, bot_token=None, client_id="111.222", client_secret="shh"
    )
    async with running(oauth, db, clock, fake_slack) as slack:
        response = await slack.command("<@UBOB|bob> for the help #easy", team="T0STRANGER")
        await slack.settle()
        assert response.status in (200, 401)
        assert slack.fake.to("chat.postMessage") == []
