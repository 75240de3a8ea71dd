"""With an app id configured, only Bot Framework-signed requests get in; rosters are paged."""

from __future__ import annotations

import aiohttp
import jwt
import pytest

from bot.app import Application
from bot.ops.config import Config, TeamsSettings
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import ProcessedEvent, TeamsConversationRef, Workspace
from tests.harness.fakes.bot_connector import FakeConnector, start_connector
from tests.harness.helpers import count, stored_kudos
from tests.harness.teams import (
    CHANNEL,
    PEOPLE,
    TENANT,
    TeamsChat,
    serve,
    uid,
)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer "
        + jwt.encode(
            {"iss": "https://attacker.example", "aud": "11111111-2222-3333-4444-555555555555"},
            "a-key-that-microsoft-never-signed-with",
            algorithm="HS256",
        ),
    ],
    ids=["no token", "forged token"],
)
async def test_with_an_app_id_a_request_without_a_valid_token_is_rejected(
    config: Config, db: Database, clock: ManualClock, authorization: str | None
) -> None:
    secured = config.model_copy(
        update={
            "teams": TeamsSettings(
                app_id="11111111-2222-3333-4444-555555555555", app_password="secret"
            )
        }
    )
    app = Application(secured, clock=clock, db=db)
    connector = FakeConnector()
    connector_runner = await start_connector(connector)
    app.load_adapter("teams")
    runner, url = await serve(app.web)
    try:
        chat = TeamsChat(app, connector, app.platforms["teams"], aiohttp.ClientSession(), url)  # type: ignore[arg-type]
        activity = chat.activity(
            "alice",
            text="kudos <at>Bob</at> for the fast refund fix #easy",
            mentions=("bob",),
        )
        headers = {"Authorization": authorization} if authorization else {}
        status = await chat.post(activity, headers)
        await chat.http.close()
    finally:
        await runner.cleanup()
        await connector_runner.cleanup()

    assert status == 401
    assert connector.posted == [] and connector.created == []
    assert await stored_kudos(db) == (0, 0, 0)
    assert await count(db, Workspace) == 0
    assert await count(db, TeamsConversationRef) == 0
    assert await count(db, ProcessedEvent) == 0


async def test_channel_members_are_read_page_by_page(teams: TeamsChat) -> None:
    await teams.install_in_team()
    teams.connector.add_member("28:otherbot", "Otherbot")

    members = await teams.platform.directory(TENANT).channel_members(CHANNEL)

    assert members == [uid(name) for name in PEOPLE]  # 7 people over 3 pages, no bots
    assert teams.connector.page_limit < len(members)


async def test_an_unknown_channel_has_no_members(teams: TeamsChat) -> None:
    assert await teams.platform.directory(TENANT).channel_members("19:nowhere") == []


async def test_people_are_looked_up_through_the_connector(teams: TeamsChat) -> None:
    await teams.install_in_team()
    directory = teams.platform.directory(TENANT)

    carol = await directory.person("29:carol")
    by_aad_id = await directory.member("aad-dan")
    other_app = await directory.person("28:otherbot")

    assert carol is not None and carol.display_name == "Carol" and not carol.is_bot
    assert by_aad_id is not None and by_aad_id.user_id == "29:dan"
    assert other_app is not None and other_app.is_bot
    assert await directory.person("29:stranger") is None


async def test_a_roster_read_can_stop_early(teams: TeamsChat) -> None:
    await teams.install_in_team()

    first = await teams.platform.directory(TENANT).roster(CHANNEL, limit=2)

    assert first == [uid(name) for name in PEOPLE[:3]]  # one page of three, then stop


def test_a_single_tenant_bot_without_its_tenant_is_refused_at_start() -> None:
    from adapters.teams import authentication
    from bot.ops.config import ConfigError

    settings = TeamsSettings(
        app_id="11111111-2222-3333-4444-555555555555", app_password="s", app_type="SingleTenant"
    )
    with pytest.raises(ConfigError, match="MICROSOFT_APP_TENANT_ID"):
        authentication(settings)
