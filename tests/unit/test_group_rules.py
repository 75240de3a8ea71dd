"""The rules of teams (groups of people) and their replies, without a database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.groups import messages, rules
from bot.messages import Refused
from storage.models import Person, Team


@dataclass
class Someone:
    display_name: str = "Dana"
    is_bot: bool = False
    forgotten_at: datetime | None = None


@dataclass
class Group:
    name: str


def refused(call: object) -> str:
    assert callable(call)
    with pytest.raises(Refused) as raised:
        call()
    return raised.value.message


def person(person_id: int, name: str) -> Person:
    return Person(id=person_id, workspace_id=1, external_id=f"U{person_id}", display_name=name)


def test_only_admins_manage_teams() -> None:
    assert rules.may_manage_teams(is_admin=True)
    assert not rules.may_manage_teams(is_admin=False)
    assert rules.ADMINS_ONLY.startswith("Only admins can manage teams.")


def test_a_team_name_is_used_once_per_workspace() -> None:
    rules.check_name_free("support", taken=False)
    assert refused(lambda: rules.check_name_free("support", taken=True)) == (
        "There is already a team called support. Change it with "
        "/team add|remove|lead support …, or pick another name."
    )


def test_a_missing_team_points_to_the_list() -> None:
    support = Group("support")
    assert rules.check_found("support", support) is support
    assert refused(lambda: rules.check_found("ops", None)) == (
        "There is no team called ops. See them all with /team list."
    )


def test_leads_and_members_are_known_living_humans() -> None:
    dana = Someone()
    assert rules.check_person("U1", dana, "lead") is dana
    assert refused(lambda: rules.check_person("U9", None, "member")) == (
        "I couldn't find 'U9' in this workspace. Mention people with @."
    )
    assert refused(lambda: rules.check_person("B1", Someone("Deploybot", True), "lead")) == (
        "Deploybot is a bot and can't be a team lead."
    )
    assert refused(lambda: rules.check_person("B2", Someone("", True), "member")) == (
        "B2 is a bot and can't be a team member."
    )
    gone = Someone(forgotten_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert refused(lambda: rules.check_person("U3", gone, "member")) == (
        "U3 is no longer part of this workspace."
    )


def test_a_channel_team_changes_members_in_its_channel() -> None:
    rules.check_members_listed("support", None, "add")
    assert refused(lambda: rules.check_members_listed("support", "C1", "add")) == (
        "support follows a channel, so its members are the channel's members: "
        "add them to the channel instead."
    )
    assert "remove them from the channel" in refused(
        lambda: rules.check_members_listed("support", "C1", "remove")
    )


def test_adding_people_already_in_the_team_says_nothing_changed() -> None:
    amy, bo = person(1, "Amy"), person(2, "Bo")
    one = messages.members_changed("support", "add", [amy], changed=False, total=3)
    assert one.messages[0].text == "@Amy is already in support; nothing changed."
    two = messages.members_changed("support", "remove", [amy, bo], changed=False, total=3)
    assert two.messages[0].text == "@Amy and @Bo are not in support; nothing changed."
    done = messages.members_changed("support", "remove", [amy], changed=True, total=2)
    assert done.messages[0].text == "✅ Removed @Amy from support (2 members)."


def test_the_team_list_shows_lead_size_channel_and_digest() -> None:
    dana = person(1, "Dana")
    support = Team(
        id=1,
        workspace_id=1,
        name="support",
        lead_id=dana.id,
        channel_id="C9",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    ops = Team(id=2, workspace_id=1, name="ops", created_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert dana.id is not None
    reply = messages.team_list([support, ops], {1: 4}, {dana.id: dana}, {})
    assert reply.messages[0].text == (
        "support — lead @Dana, 4 members (follows #C9)\nops — lead (none), 0 members"
    )
    assert messages.team_list([], {}, {}, {}).messages[0].text.startswith("No teams yet.")
