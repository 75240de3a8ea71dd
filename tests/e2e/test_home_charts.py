"""A lead's home carries each of their teams' EASY × VALUE map: published first in words, then,
once the picture process has drawn it, as a picture the platform can load — uploaded to Slack
and shown by file id in the Home tab, by signed URL in the Teams home card. A round the
visibility gate hid is no point; a team with nothing shown has no map at all."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Application
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import PulseRound
from tests.conftest import ConsoleHarness, make_config
from tests.e2e.test_charts import (
    DIGEST_TIME,
    HIDDEN,
    PNG,
    SHOWN,
    assert_map_alt,
    card_images,
    fetch,
    seed_rounds,
    slack_team,
    teams_team,
)
from tests.e2e.test_teams_home import _execute, _home_cards, _texts
from tests.harness.fakes.slack_api import block_text
from tests.harness.slack import SlackHarness
from tests.harness.teams import TeamsChat

pytestmark = pytest.mark.asyncio


@pytest.fixture
def config() -> Config:
    return make_config(admins=["29:alice", "UADMIN", "admin"])


async def hide_every_round(db: Database) -> None:
    """As if every round had too few answers: the gate shows none of them."""
    async with db.write() as unit:
        for round_ in (await unit.session.exec(select(PulseRound))).all():
            round_.scores_shown = False
            round_.hidden_reason = "fewer than 5 people answered"
            unit.session.add(round_)


def _assert_gated_alt(alt: str) -> None:
    """The words of the map: the two shown rounds at their means, the hidden one only counted."""
    assert_map_alt(alt)
    assert f"“{SHOWN[0]}”: EASY 4.5, VALUE 4.5, 6 answers" in alt
    assert f"“{SHOWN[1]}”: EASY 2.0, VALUE 4.0, 5 answers" in alt
    assert "1 more hidden to keep answers anonymous" in alt


# -- Slack ------------------------------------------------------------------------------------


async def _open_home(slack: SlackHarness, user: str) -> None:
    event = {"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"}
    assert (await slack.event(event)).status == 200
    await slack.settle()


def _views_for(slack: SlackHarness, user: str) -> list[dict[str, Any]]:
    views = []
    for call in slack.fake.to("views.publish"):
        if call.args["user_id"] == user:
            view = call.args["view"]
            views.append(json.loads(view) if isinstance(view, str) else view)
    return views


def _images(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [block for block in view["blocks"] if block["type"] == "image"]


async def test_slack_lead_home_shows_the_team_map_as_an_uploaded_picture(
    slack: SlackHarness, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    await slack_team(slack)

    await _open_home(slack, "UDAN")

    first, drawn = _views_for(slack, "UDAN")
    # Published at once with the map's words, then again with the picture once drawn.
    assert _images(first) == []
    words = block_text(first["blocks"])
    assert "EASY × VALUE — support" in words
    _assert_gated_alt(words)
    [image] = _images(drawn)
    _assert_gated_alt(image["alt_text"])
    assert HIDDEN not in json.dumps(drawn, ensure_ascii=False).split("1 more hidden")[0]
    # The picture Slack shows is the file the bot uploaded, shared in no channel.
    [upload] = slack.fake.uploads
    assert image["slack_file"] == {"id": upload.file_id}
    assert upload.data.startswith(PNG) and upload.channel is None
    assert upload.filename == "easy-value-map.png"
    assert len(drawn["blocks"]) <= 100

    # Opened again: the same picture, neither drawn nor uploaded again, published once.
    await _open_home(slack, "UDAN")
    again = _views_for(slack, "UDAN")[2:]
    assert len(again) == 1 and _images(again[0]) == [image]
    assert len(slack.fake.uploads) == 1


async def test_slack_home_of_someone_leading_nothing_has_no_picture(
    slack: SlackHarness, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    await slack_team(slack)

    await _open_home(slack, "UBOB")  # a member, not the lead

    [view] = _views_for(slack, "UBOB")
    assert _images(view) == [] and "EASY × VALUE" not in block_text(view["blocks"])
    assert slack.fake.uploads == []


async def test_slack_lead_of_a_team_with_only_hidden_rounds_gets_words_without_a_map(
    slack: SlackHarness, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    await slack_team(slack)
    await hide_every_round(slack.app.db)

    await _open_home(slack, "UDAN")

    [view] = _views_for(slack, "UDAN")
    text = block_text(view["blocks"])
    assert "*support*" in text and "members" in text  # the team's brief, in words
    assert "EASY × VALUE" not in text and HIDDEN not in text
    assert _images(view) == [] and slack.fake.uploads == []


# -- Teams ------------------------------------------------------------------------------------


async def test_teams_lead_home_card_loads_the_team_map_from_a_signed_url(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    await teams_team(teams)

    [home] = _home_cards(await teams.say("dan", "home"))
    assert home.card is not None
    # Answered in the turn with the words; the picture is drawn afterwards, in its process.
    assert card_images(home.card) == []
    _assert_gated_alt(_texts(home.card))

    await app.home_pictures.settle()
    refreshed = await _execute(teams, "dan", home, home.card["refresh"]["action"])
    card = refreshed["value"]
    [image] = card_images(card)
    _assert_gated_alt(image["altText"])
    assert len(json.dumps(card).encode()) <= 28 * 1024
    status, body, headers = await fetch(teams, image["url"])
    assert status == 200 and body.startswith(PNG)
    assert headers["Content-Type"] == "image/png"

    # Refreshed again: the same link (nothing drawn or stored anew).
    again = await _execute(teams, "dan", home, home.card["refresh"]["action"])
    assert card_images(again["value"]) == [image]

    # The same card refreshed for a member shows their own home: no team, no map.
    bob = await _execute(teams, "bob", home, home.card["refresh"]["action"])
    assert card_images(bob["value"]) == [] and "EASY × VALUE" not in _texts(bob["value"])


async def test_teams_lead_of_a_team_with_only_hidden_rounds_gets_no_map(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    await teams_team(teams)
    await hide_every_round(app.db)

    [home] = _home_cards(await teams.say("dan", "home"))
    await app.home_pictures.settle()
    assert home.card is not None
    refreshed = await _execute(teams, "dan", home, home.card["refresh"]["action"])
    text = _texts(refreshed["value"])
    assert "support" in text and "EASY × VALUE" not in text and HIDDEN not in text
    assert card_images(refreshed["value"]) == []


# -- console ----------------------------------------------------------------------------------


async def test_console_lead_home_saves_the_team_map_as_a_file(
    console: ConsoleHarness, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    console.platform.sender("local").charts_dir = tmp_path
    await console.say("/team create support lead @dana members @bob @carol", as_user="admin")
    await seed_rounds(console.app.db)

    shown = await console.say("home", as_user="dana")

    _assert_gated_alt(shown)
    [saved] = [line.split("saved as ", 1)[1] for line in shown.splitlines() if "saved as " in line]
    path = Path(saved)
    assert path.parent == tmp_path and (await asyncio.to_thread(path.read_bytes)).startswith(PNG)
    assert path.name.endswith("easy-value-map.png")

    member = await console.say("home", as_user="bob")
    assert "saved as" not in member and "EASY × VALUE" not in member
