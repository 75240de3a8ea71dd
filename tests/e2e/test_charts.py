"""Charts end to end: `/pulse results` and the weekly digest carry the EASY × VALUE map and the
trend as pictures — uploaded to Slack with the file-upload API, loaded by Teams cards from the
bot's own signed, expiring URL, saved as a file by the console — and a round the visibility
gate hid is no point on the map and no value in the trend."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import Application
from bot.messages import Message
from bot.ops.config import Config
from bot.runtime.clock import ManualClock
from storage.db import Database
from storage.models import OutboxItem, PulseRound, PulseSchedule, Team
from tests.conftest import ConsoleHarness, make_config
from tests.harness.slack import SlackHarness
from tests.harness.teams import TeamsChat, at, uid

PNG = b"\x89PNG\r\n\x1a\n"
DIGEST_TIME = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
SHOWN = ("new deploy pipeline", "standups at ten")
HIDDEN = "pager rota"


def _grid(*answers: tuple[int, int, int]) -> list[list[int]]:
    grid = [[0] * 5 for _ in range(5)]
    for easy, value, n in answers:
        grid[easy - 1][value - 1] += n
    return grid


async def seed_rounds(db: Database) -> None:
    """Three closed rounds of the one team: two the gate showed, one it hid (2 answers)."""
    async with db.write() as unit:
        team = (await unit.session.exec(select(Team))).one()
        schedule = PulseSchedule(
            workspace_id=team.workspace_id,
            owner_id=team.lead_id or 0,
            subject="changes",
            audience={"kind": "team", "team_id": team.id},
            timezone="UTC",
            open_minutes=60,
            status="done",
            created_at=datetime(2026, 11, 1, tzinfo=UTC),
        )
        unit.session.add(schedule)
        await unit.session.flush()
        rounds = [
            (SHOWN[0], 2, _grid((5, 4, 3), (4, 5, 3)), True, 6),
            (HIDDEN, 9, None, False, 2),
            (SHOWN[1], 16, _grid((2, 4, 5)), True, 5),
        ]
        for subject, day, tally, shown, responded in rounds:
            start = datetime(2026, 11, day, 10, tzinfo=UTC)
            unit.session.add(
                PulseRound(
                    schedule_id=schedule.id or 0,
                    workspace_id=team.workspace_id,
                    team_id=team.id,
                    subject=subject,
                    scheduled_for=start,
                    closes_at=start + timedelta(hours=1),
                    closed=True,
                    invited=8,
                    responded=responded,
                    tally=tally,
                    scores_shown=shown,
                    comments_shown=False,
                    hidden_reason=None if shown else "fewer than 5 people answered",
                )
            )


async def queued_charts(db: Database, prefix: str) -> list[dict[str, Any]]:
    """The chart blocks of the queued messages whose key starts with `prefix`."""
    async with db.read() as unit:
        items = (await unit.session.exec(select(OutboxItem))).all()
    return [
        block
        for item in items
        if item.dedupe_key.startswith(prefix)
        for block in Message.model_validate(item.message).model_dump(mode="json")["blocks"]
        if block["kind"] == "chart"
    ]


def assert_gated(charts: list[dict[str, Any]]) -> None:
    """The hidden round is no point and no value; the shown ones are, at their means."""
    by_kind = {chart["chart"]: chart for chart in charts}
    points = {
        point["label"]: (point["x"], point["y"], point["size"])
        for point in by_kind["easy_value_map"]["points"]
    }
    assert points == {SHOWN[0]: (4.5, 4.5, 6), SHOWN[1]: (2.0, 4.0, 5)}
    assert HIDDEN not in by_kind["easy_value_map"]["alt"]
    assert "1 more hidden to keep answers anonymous" in by_kind["easy_value_map"]["alt"]
    easy, value = by_kind["pulse_trend"]["series"]
    assert easy["values"] == [4.5, None, 2.0] and value["values"] == [4.5, None, 4.0]


def assert_map_alt(alt: str) -> None:
    assert all(subject in alt for subject in SHOWN), alt
    assert HIDDEN not in alt


# -- Slack ------------------------------------------------------------------------------------


async def slack_team(slack: SlackHarness) -> None:
    await slack.command(
        "create support lead <@UDAN> members <@UBOB> <@UCAROL> <@UERIN>",
        user="UADMIN",
        command="/team",
    )
    await slack.settle()
    await seed_rounds(slack.app.db)


async def test_slack_pulse_results_upload_the_map_and_trend_to_the_askers_dm(
    slack: SlackHarness, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    await slack_team(slack)

    response = await slack.command("results", user="UDAN", channel="CSUPPORT", command="/pulse")
    assert response.status == 200
    await slack.settle()

    answer = json.dumps(slack.private_answers()[-1])
    assert "Pulse 3 results" in answer and "follow in a direct message" in answer
    assert_gated(await queued_charts(slack.app.db, "pulse-charts:3:UDAN"))
    uploads = {upload.filename: upload for upload in slack.fake.uploads}
    assert set(uploads) == {"easy-value-map.png", "pulse-trend.png"}
    for upload in uploads.values():
        assert upload.data.startswith(PNG)
        assert upload.channel == "DUDAN"  # the lead's DM with the bot, not the channel
        assert upload.alt_text
    assert_map_alt(uploads["easy-value-map.png"].alt_text)
    assert "hidden" in uploads["pulse-trend.png"].alt_text
    # The three steps of the current upload API, once per chart; never the retired files.upload.
    assert len(slack.fake.to("files.getUploadURLExternal")) == 2
    assert len(slack.fake.to("files.completeUploadExternal")) == 2
    assert slack.fake.to("files.upload") == []


async def test_slack_weekly_digest_carries_its_charts_to_the_lead(
    slack: SlackHarness, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(days=1))
    await slack_team(slack)
    await slack.command(
        "schedule team:support every fri at 16:00 tz UTC", user="UADMIN", command="/digest"
    )
    await slack.settle()
    assert slack.fake.uploads == []  # nothing drawn for the schedule's confirmation

    clock.set(DIGEST_TIME + timedelta(minutes=1))
    await slack.app.scheduler.tick()
    await slack.settle()

    [digest] = [
        call for call in slack.fake.to("chat.postMessage") if call.args["channel"] == "UDAN"
    ]
    assert "Weekly digest" in str(digest.args["text"])
    assert "EASY × VALUE — support" in json.dumps(digest.args.get("blocks"), ensure_ascii=False)
    assert_gated(await queued_charts(slack.app.db, "digest:"))
    uploads = {upload.filename: upload for upload in slack.fake.uploads}
    assert {"easy-value-map.png", "pulse-trend.png"} <= set(uploads)
    assert all(u.data.startswith(PNG) and u.channel == "DUDAN" for u in uploads.values())
    assert_map_alt(uploads["easy-value-map.png"].alt_text)


# -- Teams ------------------------------------------------------------------------------------


@pytest.fixture
def config() -> Config:
    return make_config(admins=["29:alice", "UADMIN", "admin"])


async def teams_team(teams: TeamsChat) -> None:
    for name in ("alice", "dan"):
        await teams.install_personal(name)
    [created] = await teams.say(
        "alice",
        f"team create support lead {at('dan')} members {at('bob')} {at('carol')}",
        mentions=("dan", "bob", "carol"),
    )
    assert "Team support created" in created.shown, created.shown
    await seed_rounds(teams.app.db)


def card_images(card: dict[str, Any] | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Image":
                found.append(node)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(card)
    return found


async def fetch(teams: TeamsChat, url: str) -> tuple[int, bytes, dict[str, str]]:
    async with teams.http.get(url) as response:
        return response.status, await response.read(), dict(response.headers)


async def test_teams_pulse_results_card_loads_the_charts_from_a_signed_expiring_url(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    await teams_team(teams)

    posted = await teams.say("dan", "pulse results")

    assert_gated(await queued_charts(app.db, f"pulse-charts:3:{uid('dan')}"))
    [charts] = [post for post in posted if card_images(post.card)]
    assert charts.conversation_id in {t.conversation_id for t in teams.dms_to("dan")}
    card = charts.card
    assert card is not None and len(json.dumps(card).encode()) <= 28 * 1024
    images = card_images(card)
    assert len(images) == 2
    assert_map_alt(images[0]["altText"])
    # Adaptive Cards 1.0–1.2 properties only, so older Teams mobile clients draw them.
    assert all(set(image) <= {"type", "url", "altText", "size"} for image in images)
    for image in images:
        status, body, headers = await fetch(teams, image["url"])
        assert status == 200 and body.startswith(PNG)
        assert headers["Content-Type"] == "image/png"
        assert "private" in headers["Cache-Control"]

    url = images[0]["url"]
    head = url.rpartition(".")[0]
    token = head.rsplit("/", 1)[1]
    chart_id, expires, signature = token.split(".")
    forged_signature = url.replace(signature, ("A" if signature[0] != "A" else "B") + signature[1:])
    later = url.replace(f".{expires}.", f".{int(expires) + 86400}.")
    guessed = url.replace(chart_id, "x" * len(chart_id))
    for forged in (forged_signature, later, guessed):
        assert (await fetch(teams, forged))[0] == 403
    assert (await fetch(teams, url.rsplit("/", 1)[0] + "/nonsense.png"))[0] == 403

    clock.advance(timedelta(days=4))  # past the link's signed expiry
    assert (await fetch(teams, url))[0] == 404


async def test_teams_weekly_digest_card_references_its_charts(
    teams: TeamsChat, app: Application, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(days=1))
    await teams_team(teams)
    await teams.say("alice", "digest schedule team:support every fri at 16:00 tz UTC")
    await teams.say("bob", f"kudos {at('carol')} for covering support", mentions=("carol",))
    await teams.say("frank", f"kudos {at('carol')} for the runbook", mentions=("carol",))

    clock.set(DIGEST_TIME + timedelta(minutes=1))
    await app.scheduler.tick()
    await app.outbox.drain()

    [digest] = [post for post in teams.dms_to("dan") if "Weekly digest" in post.shown]
    images = card_images(digest.card)
    assert len(images) == 3
    assert_map_alt(images[0]["altText"])
    # Kudos by week: Carol received two, Bob (a member) gave one, Frank is outside the team.
    assert "week of 13 Nov: 2 received, 1 given." in images[2]["altText"]
    assert "week of 06 Nov: 0 received, 0 given" in images[2]["altText"]
    assert_gated(await queued_charts(app.db, "digest:"))
    for image in images:
        status, body, _ = await fetch(teams, image["url"])
        assert status == 200 and body.startswith(PNG)


# -- console ----------------------------------------------------------------------------------


async def test_console_pulse_results_save_the_charts_as_files(
    console: ConsoleHarness, clock: ManualClock, tmp_path: Path
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    console.platform.sender("local").charts_dir = tmp_path
    await console.say("/team create support lead @dana members @bob @carol", as_user="admin")
    await seed_rounds(console.app.db)

    shown = await console.say("/pulse results", as_user="dana")

    assert "follow in a direct message" in shown
    saved = [line.split("saved as ", 1)[1] for line in shown.splitlines() if "saved as " in line]
    assert len(saved) == 2
    for path in map(Path, saved):
        assert path.parent == tmp_path and path.read_bytes().startswith(PNG)
    assert "📊 EASY × VALUE — support" in shown
    assert HIDDEN not in shown.split("📊", 1)[1].split("📊")[0]  # not in the map's words


async def test_slack_results_whose_charts_cannot_be_drawn_arrive_as_words(
    slack: SlackHarness, clock: ManualClock
) -> None:
    clock.set(DIGEST_TIME - timedelta(hours=1))
    await slack_team(slack)
    slack.app.pictures.timeout = 0.0  # every draw overruns: the text-only fallback

    await slack.command("results", user="UDAN", channel="CSUPPORT", command="/pulse")
    await slack.settle()

    assert slack.fake.uploads == []
    [charts] = [
        call
        for call in slack.fake.to("chat.postMessage")
        if call.args["channel"] == "UDAN" and "Charts for pulse 3" in str(call.args["text"])
    ]
    words = json.dumps(charts.args["blocks"], ensure_ascii=False)
    assert "EASY × VALUE — support" in words
    assert "“new deploy pipeline”: EASY 4.5, VALUE 4.5, 6 answers" in words
    assert HIDDEN not in words
