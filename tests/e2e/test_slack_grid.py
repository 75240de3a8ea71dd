"""Slack Enterprise Grid end to end: installs through the real OAuth flow against the fake
Slack (org-wide, and per workspace inside an org), people identified in the org, Slack Connect
guests kept outside it, installs limited to an allow-list, and tokens sealed at rest."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import String, Text, inspect
from sqlalchemy.types import JSON
from sqlmodel import select

from bot.ops.config import Config
from bot.pulses.ballot import Answer
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import Person, Recognition, SlackInstallation, Workspace
from storage.repositories import pulses as repo
from tests.harness.fakes.slack_api import (
    TEAM,
    FakeSlack,
    block_text,
    org_install,
    workspace_install,
)
from tests.harness.helpers import count, pulse_round, sealed_answers
from tests.harness.slack import SlackHarness, running, slack_config, slash_command

pytestmark = pytest.mark.asyncio

ORG = "E0ORG"
NORTH, SOUTH = "T0NORTH", "T0SOUTH"  # two workspaces of the org
_ids = itertools.count(1)


def _grid_user(uid: str, name: str, home: str, org: str = ORG) -> dict[str, Any]:
    """users.info of an Enterprise Grid member: `enterprise_user` names the org and its
    workspaces the person belongs to."""
    return {
        "id": uid,
        "team_id": home,
        "name": name,
        "real_name": name.title(),
        "tz": "Europe/Berlin",
        "is_bot": False,
        "profile": {"display_name": name, "real_name": name.title()},
        "enterprise_user": {
            "id": uid,
            "enterprise_id": org,
            "enterprise_name": f"Org {org}",
            "is_admin": False,
            "is_owner": False,
            "teams": [NORTH, SOUTH] if org == ORG else [home],
        },
    }


@pytest.fixture
def fake_grid(fake_slack: FakeSlack) -> FakeSlack:
    # `W…` and `U…` ids alike are org-wide in a Grid org.
    fake_slack.users["WANNA"] = _grid_user("WANNA", "anna", NORTH)
    fake_slack.users["UBRUNO"] = _grid_user("UBRUNO", "bruno", SOUTH)
    fake_slack.users["WCLARA"] = _grid_user("WCLARA", "clara", NORTH)
    # A Slack Connect guest: a member of another Grid org, in a shared channel.
    fake_slack.users["WGUEST"] = _grid_user("WGUEST", "gus", "T0OTHER", org="E0OTHER")
    return fake_slack


@asynccontextmanager
async def oauth_bot(
    config: Config, db: Database, clock: ManualClock, fake: FakeSlack, **slack: Any
) -> AsyncIterator[SlackHarness]:
    oauth = slack_config(
        config, fake, bot_token=None, client_id="111.222", client_secret="shh", **slack
    )
    async with running(oauth, db, clock, fake) as harness:
        yield harness


async def install(slack: SlackHarness, answer: dict[str, Any]) -> tuple[int, str]:
    """Someone installs through /slack/install → Slack → /slack/oauth_redirect, and Slack's
    oauth.v2.access gives `answer`. The callback's status and page."""
    slack.fake.installs.append(answer)
    page = await slack.client.get("/slack/install", allow_redirects=False)
    state = re.search(r"state=([\w-]+)", await page.text())
    assert page.status == 200 and state is not None
    cookie = {"Cookie": "; ".join(f"{k}={v.value}" for k, v in page.cookies.items())}
    done = await slack.client.get(
        f"/slack/oauth_redirect?code=c{next(_ids)}&state={state.group(1)}",
        allow_redirects=False,
        headers=cookie,
    )
    return done.status, await done.text()


async def command(
    slack: SlackHarness,
    text: str,
    *,
    user: str,
    team: str,
    org: str | None = ORG,
    command: str = "/kudos",
    channel: str = "CGENERAL",
    org_wide: bool | None = None,
) -> str:
    """A slash command as Slack posts it from a workspace of a Grid org (`team_id`,
    `enterprise_id`, `enterprise_name`, `is_enterprise_install`); the response_url name."""
    name = f"grid{next(_ids)}"
    form = slash_command(
        slack.fake,
        text,
        trigger_id=f"trigger-{name}",
        response_name=name,
        user=user,
        channel=channel,
        command=command,
        team=team,
    )
    if org:
        form |= {"enterprise_id": org, "enterprise_name": f"Org {org}"}
    if org_wide is not None:
        form["is_enterprise_install"] = "true" if org_wide else "false"
    response = await slack.post(urlencode(form), "application/x-www-form-urlencoded")
    assert response.status == 200
    return name


def answered(slack: SlackHarness, name: str) -> str:
    found = [r for r in slack.fake.responses if r["name"] == name]
    assert len(found) == 1, found
    return block_text(found[0]["blocks"])


async def event(
    slack: SlackHarness, inner: dict[str, Any], *, team: str, org: str, org_wide: bool, **top: Any
) -> None:
    """An Events API envelope from a Grid org, with its `authorizations` entry."""
    body = {
        "token": "legacy",
        "team_id": team,
        "enterprise_id": org,
        "context_team_id": team,
        "context_enterprise_id": org,
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"EvGrid{next(_ids):05d}",
        "event_time": int(time.time()),
        "event": inner,
        "authorizations": [
            {
                "enterprise_id": org,
                "team_id": None if org_wide else team,
                "user_id": "UBOT",
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ],
        "is_ext_shared_channel": False,
        **top,
    }
    response = await slack.post(json.dumps(body), "application/json")
    assert response.status == 200


# -- org-wide install -------------------------------------------------------------------------


async def test_an_org_wide_install_serves_every_workspace_and_counts_one_person_once(
    config: Config, db: Database, clock: ManualClock, fake_grid: FakeSlack
) -> None:
    async with oauth_bot(config, db, clock, fake_grid) as slack:
        status, _page = await install(slack, org_install(ORG))
        assert status == 200
        async with db.read() as unit:
            stored = (await unit.session.exec(select(SlackInstallation))).one()
        assert (stored.enterprise_id, stored.team_id, stored.is_enterprise_install) == (
            ORG,
            "",
            True,
        )

        # Anna (W… id, org-wide) gives 10 kudos in one day, alternating between the org's two
        # workspaces, against an allowance of 5: 5 are accepted across both.
        names = []
        for attempt in range(10):
            team = NORTH if attempt % 2 == 0 else SOUTH
            names.append(
                await command(
                    slack, f"<@UBRUNO|bruno> for shipping #{attempt} #easy", user="WANNA", team=team
                )
            )
            await slack.settle()
        replies = [answered(slack, name) for name in names]
        assert sum("Kudos sent to <@UBRUNO>" in reply for reply in replies) == 5
        assert all("You've given all 5 of today's kudos" in reply for reply in replies[5:])
        assert "You have 0 of 5 left today" in replies[4]
        assert await count(db, Recognition) == 5
        async with db.read() as unit:
            spaces = (await unit.session.exec(select(Workspace))).all()
            anna = (
                await unit.session.exec(select(Person).where(Person.external_id == "WANNA"))
            ).all()
        assert [(w.platform, w.external_id) for w in spaces] == [("slack", ORG)]
        assert len(anna) == 1  # one person, whichever workspace she acted from

        # Every post went out with the org-wide token; channel posts and DMs alike.
        posts = slack.fake.to("chat.postMessage")
        assert posts and {call.token for call in posts} == {"xoxb-org-wide"}

        # Bruno's stats read the same from either workspace.
        asked = [await command(slack, "stats", user="UBRUNO", team=team) for team in (NORTH, SOUTH)]
        await slack.settle()
        north, south = (answered(slack, name) for name in asked)
        assert north == south and "Received this week*\n5" in north

        # An interaction from an org-wide install may carry no team: the user's team stands in.
        click = {
            "type": "block_actions",
            "team": None,
            "enterprise": {"id": ORG, "name": "Org"},
            "is_enterprise_install": True,
            "user": {"id": "WANNA", "username": "anna", "team_id": SOUTH},
            "api_app_id": "A1",
            "container": {"type": "message", "message_ts": "1.1", "channel_id": "CGENERAL"},
            "channel": {"id": "CGENERAL", "name": "general"},
            "response_url": slack.fake.response_url("orgclick"),
            "trigger_id": "t-orgclick",
            "actions": [{"action_id": "not-ours", "block_id": "b", "action_ts": "1.2"}],
        }
        assert (await slack.interaction(click)).status == 200

        # The org removes the app: its one installation goes, whichever workspace's id the
        # event carries.
        await event(slack, {"type": "app_uninstalled"}, team=SOUTH, org=ORG, org_wide=True)
        await slack.settle()
        assert await count(db, SlackInstallation) == 0


# -- per-workspace installs inside an org ----------------------------------------------------


async def test_per_workspace_installs_inside_an_org_share_people_but_keep_their_tokens(
    config: Config, db: Database, clock: ManualClock, fake_grid: FakeSlack
) -> None:
    async with oauth_bot(config, db, clock, fake_grid) as slack:
        for team in (NORTH, SOUTH):
            answer = workspace_install(team, org=ORG, token=f"xoxb-{team.lower()}")
            assert (await install(slack, answer))[0] == 200

        await command(slack, "<@WCLARA|clara> for the review #easy", user="WANNA", team=NORTH)
        await slack.settle()
        await command(slack, "<@WCLARA|clara> for the demo #value", user="WANNA", team=SOUTH)
        await slack.settle()
        async with db.read() as unit:
            spaces = (await unit.session.exec(select(Workspace.external_id))).all()
            kudos = (await unit.session.exec(select(Recognition))).all()
        assert list(spaces) == [ORG]
        assert len(kudos) == 2 and len({k.giver_id for k in kudos}) == 1

        # Everything went out with the org's own installs' tokens (no single-workspace token).
        tokens = {"xoxb-t0north", "xoxb-t0south"}
        posts = slack.fake.to("chat.postMessage")
        assert posts and {call.token for call in posts} <= tokens
        lookups = slack.fake.to("users.info")
        assert lookups and {call.token for call in lookups} <= tokens

        # A later post (the outbox) into a channel the newest install cannot see is sent with
        # the org's other install instead of failing.
        slack.fake.calls.clear()
        slack.fake.fail("chat.postMessage", "channel_not_found")
        await command(
            slack,
            "<@UBRUNO|bruno> for the fix #easy",
            user="WCLARA",
            team=NORTH,
            channel="CNORTHONLY",
        )
        await slack.settle()
        tried = [
            call
            for call in slack.fake.to("chat.postMessage")
            if call.args["channel"] == "CNORTHONLY"
        ]
        assert len(tried) == 2 and tried[0].token != tried[1].token

        # Someone only the other install can see is found through it.
        fake_grid.users["WDORA"] = _grid_user("WDORA", "dora", NORTH)
        slack.fake.calls.clear()
        slack.fake.fail("users.info", "user_not_found")
        name = await command(slack, "<@WDORA|dora> for the docs #easy", user="WANNA", team=NORTH)
        await slack.settle()
        assert "Kudos sent to <@WDORA>" in answered(slack, name)
        lookups = [
            call.token for call in slack.fake.to("users.info") if call.args["user"] == "WDORA"
        ]
        assert len(lookups) == 2 and lookups[0] != lookups[1]

        # Events from the org: a DM to the bot from the south workspace is answered.
        await event(
            slack,
            {
                "type": "message",
                "channel_type": "im",
                "channel": "DANNA",
                "user": "WANNA",
                "text": "stats",
                "ts": "1700000001.000100",
            },
            team=SOUTH,
            org=ORG,
            org_wide=False,
        )
        await slack.settle()
        dm = [
            call
            for call in slack.fake.to("chat.postMessage")
            if call.args["channel"] == "WANNA" or call.args["channel"] == "DANNA"
        ]
        assert dm and dm[-1].token == "xoxb-t0south"  # the answer comes from that workspace


# -- the same workspace outside Grid: nothing changes ------------------------------------------


async def test_outside_grid_a_workspace_is_its_own_record_as_before(
    config: Config, db: Database, clock: ManualClock, fake_grid: FakeSlack
) -> None:
    async with oauth_bot(config, db, clock, fake_grid) as slack:
        assert (await install(slack, workspace_install("T0SOLO", token="xoxb-solo")))[0] == 200
        name = await command(
            slack, "<@UBOB|bob> for the help #easy", user="UALICE", team="T0SOLO", org=None
        )
        await slack.settle()
        assert "Kudos sent to <@UBOB>" in answered(slack, name)
        async with db.read() as unit:
            spaces = (await unit.session.exec(select(Workspace.external_id))).all()
        assert list(spaces) == ["T0SOLO"]


# -- Slack Connect ------------------------------------------------------------------------------


async def test_slack_connect_guests_stay_outside_the_org(
    config: Config, db: Database, clock: ManualClock, fake_grid: FakeSlack
) -> None:
    async with oauth_bot(config, db, clock, fake_grid) as slack:
        await install(slack, org_install(ORG))
        # A member thanks a guest of another org in a shared channel: refused, clearly.
        name = await command(
            slack, "<@WGUEST|gus> for the joint launch #easy", user="WANNA", team=NORTH
        )
        await slack.settle()
        assert "guest from another organisation" in answered(slack, name)
        assert await count(db, Recognition) == 0

        # The guest reacts with the kudos emoji in the shared channel: the event says they are
        # of another org (`user_team`), so nothing is looked up or stored for them.
        people_before = await count(db, Person)
        slack.fake.calls.clear()
        await event(
            slack,
            {
                "type": "reaction_added",
                "user": "WGUEST",
                "user_team": "E0OTHER",
                "reaction": "clap",
                "item_user": "WANNA",
                "item": {"type": "message", "channel": "CSHARED", "ts": "1700000000.000100"},
                "event_ts": "1700000002.000100",
            },
            team=NORTH,
            org=ORG,
            org_wide=True,
            is_ext_shared_channel=True,
        )
        await slack.settle()
        assert await count(db, Recognition) == 0
        assert await count(db, Person) == people_before
        assert slack.fake.to("users.info") == [] and slack.fake.to("conversations.history") == []
        told = [call for call in slack.fake.calls if call.method.startswith("chat.post")]
        assert told and "another organisation" in str(told[-1].args)

        # Where the payload cannot tell (a command naming only the org it reached), the
        # directory does: the guest is refused, and their row says they are from elsewhere.
        name = await command(slack, "stats", user="WGUEST", team=NORTH, channel="CSHARED")
        await slack.settle()
        assert "you are a guest from another organisation" in answered(slack, name)
        async with db.read() as unit:
            guest = (
                await unit.session.exec(select(Person).where(Person.external_id == "WGUEST"))
            ).one()
        assert guest.is_external

        # A pulse to the shared channel asks the org's members only.
        fake_grid.users["WADMIN"] = _grid_user("WADMIN", "ada", NORTH) | {"is_admin": True}
        fake_grid.channels["CSHARED"] = ["WANNA", "WGUEST", "WNEWGUEST"]
        fake_grid.shared_channels.add("CSHARED")
        # A guest the bot has never met is looked up (the channel is shared) and left out too.
        fake_grid.users["WNEWGUEST"] = _grid_user("WNEWGUEST", "nia", "T0THIRD", org="E0THIRD")
        slack.fake.calls.clear()
        await command(
            slack,
            'now "the joint launch" to <#CSHARED|shared> open 24h',
            user="WADMIN",
            team=NORTH,
            command="/pulse",
            org_wide=True,
        )
        await slack.settle()
        asked = {call.args["channel"] for call in slack.fake.to("chat.postMessage")}
        assert asked == {"WANNA"}


# -- the install allow-list ------------------------------------------------------------------


async def test_an_install_from_a_workspace_not_listed_is_refused_and_nothing_is_stored(
    config: Config, db: Database, clock: ManualClock, fake_grid: FakeSlack
) -> None:
    async with oauth_bot(
        config, db, clock, fake_grid, install_allowlist=["t0listed", ORG]
    ) as slack:
        status, page = await install(slack, workspace_install("T0STRANGER", token="xoxb-x"))
        assert status == 403
        assert "does not accept installs from your workspace" in page and "T0STRANGER" in page
        assert await count(db, SlackInstallation) == 0
        assert [call.args.get("token") or call.token for call in slack.fake.to("auth.revoke")]

        # The listed workspace, and any workspace of the listed org (or the org itself).
        assert (await install(slack, workspace_install("T0LISTED")))[0] == 200
        assert (await install(slack, workspace_install(SOUTH, org=ORG, token="xoxb-s")))[0] == 200
        assert (await install(slack, org_install(ORG)))[0] == 200
        assert await count(db, SlackInstallation) == 3


# -- tokens at rest --------------------------------------------------------------------------


async def _text_in_every_table(db: Database) -> str:
    """Every text and JSON column of every table, as a dump would show it."""
    found: list[str] = []
    async with db.read() as unit:
        connection = await unit.session.connection()
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        for table in tables:
            columns = await connection.run_sync(
                lambda sync, table=table: inspect(sync).get_columns(table)
            )
            texts = [
                c["name"]
                for c in columns
                if isinstance(c["type"], String | Text | JSON)
                or "CHAR" in str(c["type"]).upper()
                or "JSON" in str(c["type"]).upper()
                or "TEXT" in str(c["type"]).upper()
            ]
            for column in texts:
                rows = await connection.exec_driver_sql(f'SELECT "{column}" FROM "{table}"')
                found += [str(value) for (value,) in rows.all() if value is not None]
    return "\n".join(found)


async def test_no_token_is_stored_in_clear_and_old_rows_are_sealed_on_start(
    config: Config, db: Database, clock: ManualClock, fake_grid: FakeSlack
) -> None:
    async with oauth_bot(config, db, clock, fake_grid) as slack:
        await install(slack, org_install(ORG, token="xoxb-org-secret"))
        refreshing = workspace_install("T0SOLO", token="xoxb-solo-secret") | {
            "refresh_token": "xoxe-1-refresh-secret",
            "expires_in": 43200,
            "authed_user": {
                "id": "UINSTALLER",
                "access_token": "xoxp-user-secret",
                "scope": "users:read",
                "token_type": "user",
            },
        }
        assert (await install(slack, refreshing))[0] == 200
        dump = await _text_in_every_table(db)
        assert "sealed:v1:" in dump
        for prefix in ("xoxb-", "xoxp-", "xoxe-"):
            assert prefix not in dump

        # An installation written in clear by an earlier version …
        async with db.write() as unit:
            row = (await unit.session.exec(select(SlackInstallation))).first()
            assert row is not None
            unit.session.add(
                SlackInstallation(
                    client_id="111.222",
                    enterprise_id="",
                    team_id="T0OLD",
                    data={
                        **row.data,
                        "team_id": "T0OLD",
                        "enterprise_id": None,
                        "is_enterprise_install": False,
                        "bot_token": "xoxb-old-clear",
                    },
                    installed_at=row.installed_at,
                )
            )
        assert "xoxb-old-clear" in await _text_in_every_table(db)
        fake_grid.issued["xoxb-old-clear"] = ("T0OLD", "")

    # … is sealed when the bot next starts, and still works.
    async with oauth_bot(config, db, clock, fake_grid) as slack:
        await command(
            slack, "<@UBOB|bob> for the help #easy", user="UALICE", team="T0OLD", org=None
        )
        await slack.settle()
        assert {call.token for call in slack.fake.to("chat.postMessage")} == {"xoxb-old-clear"}
        dump = await _text_in_every_table(db)
        assert "xoxb-" not in dump and "xoxp-" not in dump and "xoxe-" not in dump


# -- pulse respondent tags ---------------------------------------------------------------------


async def _closed_round(slack: SlackHarness, clock: ManualClock) -> Any:
    clock.advance(timedelta(hours=25))
    await slack.app.scheduler.tick()
    await slack.settle()
    return await pulse_round(slack.app.db, 1)


async def test_an_answer_saved_before_the_identity_change_still_counts_once(
    slack: SlackHarness, clock: ManualClock
) -> None:
    """Outside Grid a person's identity string is exactly what earlier versions tagged
    answers with ("slack:<team>:<user>"): an answer sealed under it and one given now are the
    same person's, and count once."""
    slack.fake.channels["CFIN"] = ["UBOB", "UCAROL"]
    await slack.command(
        'now "the new tool" to <#CFIN|finance> open 24h', user="UADMIN", command="/pulse"
    )
    await slack.settle()
    assert await sealed_answers(slack.app, 1) == 0

    # Bob's answer as the previous version sealed it: tagged from the literal old identity.
    box = slack.app.pulses.rounds.box
    old_tag = box.tag(1, f"slack:{TEAM}:UBOB")
    bucket = box.bucket_of(old_tag)
    async with slack.app.db.write() as session:
        await repo.locked_ballot(session, 1, bucket)
        await repo.save_ballot(
            session, 1, bucket, box.seal(1, bucket, {old_tag: Answer(easy=1, value=1)})
        )
    assert await sealed_answers(slack.app, 1) == 1

    await slack.command("1 easy=5 value=4", user="UBOB", command="/answer")
    await slack.settle()
    assert await sealed_answers(slack.app, 1) == 1  # replaced, not added
    async with slack.app.db.read() as session:
        sealed = dict(await repo.ballots(session, 1))[bucket]
    assert box.open(1, bucket, sealed) == {old_tag: Answer(easy=5, value=4)}
    assert (await _closed_round(slack, clock)).responded == 1


async def test_a_grid_member_answering_from_two_workspaces_counts_once(
    config: Config, db: Database, clock: ManualClock, fake_grid: FakeSlack
) -> None:
    fake_grid.users["WADMIN"] = _grid_user("WADMIN", "ada", NORTH) | {"is_admin": True}
    fake_grid.channels["CORG"] = ["WANNA", "UBRUNO"]
    async with oauth_bot(config, db, clock, fake_grid) as slack:
        await install(slack, org_install(ORG))
        asked = await command(
            slack,
            'now "the org survey" to <#CORG|org> open 24h',
            user="WADMIN",
            team=NORTH,
            command="/pulse",
            org_wide=True,
        )
        await slack.settle()
        assert "on its way to 2 people" in answered(slack, asked)
        questions = {call.args["channel"] for call in slack.fake.to("chat.postMessage")}
        assert questions == {"WANNA", "UBRUNO"}

        for team, score in ((NORTH, 2), (SOUTH, 4)):
            said = await command(
                slack,
                f"1 easy={score} value={score}",
                user="WANNA",
                team=team,
                command="/answer",
                org_wide=True,
            )
            await slack.settle()
            assert "saved anonymously" in answered(slack, said)
        assert await sealed_answers(slack.app, 1) == 1
        box = slack.app.pulses.rounds.box
        tag = box.tag(1, f"slack:{ORG}:WANNA")  # identified in the org, not the workspace
        async with slack.app.db.read() as session:
            sealed = dict(await repo.ballots(session, 1))[box.bucket_of(tag)]
        assert box.open(1, box.bucket_of(tag), sealed) == {tag: Answer(easy=4, value=4)}
        assert (await _closed_round(slack, clock)).responded == 1
