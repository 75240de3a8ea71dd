"""Quiet by default, chosen by the team, through the real Teams adapter."""

from __future__ import annotations

import pytest

from bot.ops.config import Config
from tests.conftest import make_config
from tests.harness.teams import TeamsChat

pytestmark = pytest.mark.asyncio


@pytest.fixture
def config() -> Config:
    return make_config(admins=["29:alice"])


async def _thank_bob(teams: TeamsChat, reason: str) -> None:
    await teams.say("alice", f"kudos <at>Bob</at> {reason}", where="channel", mentions=("bob",))


def _celebrations(teams: TeamsChat) -> list[str]:
    return [post.card_text for post in teams.in_channel() if "gave kudos" in post.card_text]


def _kudos_dms(teams: TeamsChat) -> list[str]:
    return [post.card_text for post in teams.dms_to("bob") if "received kudos" in post.card_text]


async def test_routing_and_the_dm_switch_are_honoured(teams: TeamsChat) -> None:
    await teams.install_in_team()
    await teams.install_personal("bob")
    await _thank_bob(teams, "for untangling the refund flow")
    assert len(_celebrations(teams)) == 1 and len(_kudos_dms(teams)) == 1  # the defaults

    [answer] = [p for p in await teams.say("bob", "kudos notify off") if p.card_text or p.text]
    assert "No more kudos DMs for you" in (answer.card_text or answer.text)
    await _thank_bob(teams, "for pairing on the migration")
    assert len(_celebrations(teams)) == 2 and len(_kudos_dms(teams)) == 1

    # Kudos DMs off never mutes a pulse question.
    await teams.say("alice", 'pulse now "the new rota" to <at>Bob</at>', mentions=("bob",))
    assert any("A quick pulse" in post.card_text for post in teams.dms_to("bob"))

    await teams.say("alice", "kudos settings celebrate nowhere")
    await _thank_bob(teams, "for the calm incident review")
    assert len(_celebrations(teams)) == 2  # nothing new in the channel
