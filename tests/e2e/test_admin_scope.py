"""`admins:` is scoped per workspace: an admin of workspace A asking for an admin command in
workspace B is refused there with the usual private message. A plain list (a single-workspace
install's config) keeps working in the first workspace the bot knew, and nowhere else."""

from __future__ import annotations

from typing import Any

import pytest

from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from tests.conftest import make_config
from tests.harness.fakes.slack_api import TEAM, FakeSlack, block_text
from tests.harness.slack import SlackHarness, running, slack_config
from tests.harness.teams import TENANT, TeamsChat

pytestmark = pytest.mark.asyncio

OTHER_TEAM = "T0OTHER"
OTHER_TENANT = "tenant-2"
REFUSED = "Only admins can"


async def _slack_answer(slack: SlackHarness, text: str, team: str) -> str:
    before = len(slack.private_answers())
    response = await slack.command(text, user="UALICE", command="/pulse", team=team)
    assert response.status == 200
    await slack.settle()
    answers = slack.private_answers()[before:]
    assert len(answers) == 1
    answer = answers[0]
    return block_text(answer["blocks"]) if answer.get("blocks") else str(answer.get("text"))


@pytest.mark.parametrize(
    "admins", [{TEAM: ["UALICE"], OTHER_TEAM: ["UBOB"]}, ["UALICE"]], ids=["keyed", "plain"]
)
async def test_slack_admin_of_one_workspace_is_refused_in_another(
    db: Database, clock: ManualClock, fake_slack: FakeSlack, admins: Any
) -> None:
    settings = slack_config(make_config(admins=admins), fake_slack)
    # Alice is a member of both workspaces (not a guest from another organisation).
    fake_slack.users["UALICE"]["enterprise_user"] = {"teams": [TEAM, OTHER_TEAM]}
    async with running(settings, db, clock, fake_slack) as slack:
        # Alice (no Slack admin) is listed for the test workspace: she may list pulses there.
        assert REFUSED not in await _slack_answer(slack, "list", TEAM)
        # The same user id in another workspace (Enterprise Grid shares ids) is no admin.
        refused = await _slack_answer(slack, "list", OTHER_TEAM)
        assert refused.startswith("Only admins can list pulse schedules")
        refused = await _slack_answer(slack, 'now "x" to <#CGENERAL|general>', OTHER_TEAM)
        assert REFUSED in refused
        # Back home she still is one.
        assert REFUSED not in await _slack_answer(slack, "list", TEAM)
    assert [c for c in fake_slack.to("chat.postMessage") if "pulse" in str(c.args)] == []


def _in_tenant(activity: dict[str, Any], tenant: str) -> dict[str, Any]:
    activity["conversation"]["tenantId"] = tenant
    activity["channelData"]["tenant"]["id"] = tenant
    return activity


async def _teams_answer(teams: TeamsChat, text: str, tenant: str) -> str:
    before = len(teams.connector.posted)
    status = await teams.post(_in_tenant(teams.activity("alice", text=text), tenant))
    assert status in (200, 201)
    await teams.app.outbox.drain()
    shown = [post.shown for post in teams.connector.posted[before:]]
    assert len(shown) == 1, shown
    return shown[0]


@pytest.fixture(
    params=[{TENANT: ["29:alice"], OTHER_TENANT: ["29:bob"]}, ["29:alice"]],
    ids=["keyed", "plain"],
)
def config(request: pytest.FixtureRequest) -> Config:
    return make_config(admins=request.param)


async def test_teams_admin_of_one_tenant_is_refused_in_another(
    teams: TeamsChat, app: Application
) -> None:
    assert REFUSED not in await _teams_answer(teams, "pulse list", TENANT)
    refused = await _teams_answer(teams, "pulse list", OTHER_TENANT)
    assert "Only admins can list pulse schedules" in refused
    # Replies stay in Alice's own chat: nothing reached anyone else.
    assert {post.conversation_id for post in teams.connector.posted} == {"a:personal-alice"}
    assert REFUSED not in await _teams_answer(teams, "pulse list", TENANT)
