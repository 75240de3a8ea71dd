"""A Slack payload is read once, at the door, into one value.

The payloads follow the examples in Slack's documentation (slash command form fields, the
Events API envelope of `reaction_added`, `block_actions` and `view_submission` interaction
payloads); the forms' ids come from our own Block Kit rendering, as a real click would.
"""

from __future__ import annotations

import re
from typing import Any

from adapters.slack.blockkit import modal_view, render_blocks
from adapters.slack.inbound import (
    command_key,
    read_action,
    read_command,
    read_reaction,
    read_uninstall,
    read_view_submission,
)
from bot.messages import (
    Button,
    Buttons,
    Choice,
    ChoiceInput,
    Form,
    Message,
    PeopleInput,
    RatingInput,
    ReplyTo,
    TextInput,
)

TEAM = "T0001"
RESPONSE_URL = "https://hooks.slack.com/actions/T0001/1232321423432/D09sSasdasdAS9091209"

KUDOS_FORM = Form(
    form_id="kudos",
    title="Give kudos",
    submit_label="Send",
    inputs=[
        PeopleInput(name="recipients", label="Who?"),
        ChoiceInput(
            name="tags",
            label="Tags",
            multiple=True,
            optional=True,
            choices=[Choice(value="easy", label="Easy"), Choice(value="value", label="Value")],
        ),
        RatingInput(name="easy", label="EASY", low_label="hard", high_label="very easy"),
        TextInput(name="reason", label="What for?"),
    ],
    context={"round": "42"},
)


def slash_command(**fields: str) -> dict[str, Any]:
    """The form fields Slack posts for `/kudos` (as Bolt hands them to a listener)."""
    return {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": TEAM,
        "team_domain": "example",
        "enterprise_id": "E0001",
        "enterprise_name": "Globular Construct Inc",
        "channel_id": "C2147483705",
        "channel_name": "test",
        "user_id": "U2147483697",
        "user_name": "steve",
        "command": "/kudos",
        "text": "<@U0BOB|bob> for R&amp;D's &lt;deploy&gt; script #easy",
        "api_app_id": "A123456",
        "response_url": "https://hooks.slack.com/commands/1234/5678",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        **fields,
    }


def event_envelope(event: dict[str, Any], event_id: str = "Ev123ABC456") -> dict[str, Any]:
    return {
        "token": "XXYYZZ",
        "team_id": TEAM,
        "api_app_id": "A123ABC456",
        "event": event,
        "type": "event_callback",
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        "event_id": event_id,
        "event_time": 1360782804,
    }


def reaction(kind: str = "reaction_added", **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "user": "U123ABC456",
        "reaction": "raised_hands::skin-tone-3",
        "item_user": "U222222222",
        "item": {"type": "message", "channel": "C123ABC456", "ts": "1360782400.498405"},
        "event_ts": "1360782804.083113",
        **fields,
    }


def inline_form_state() -> dict[str, Any]:
    """`state.values` as Slack sends it: {block_id: {action_id: element state}}."""
    return {
        "recipients": {
            "people_input": {"type": "multi_users_select", "selected_users": ["U0BOB", "U0CAROL"]}
        },
        "tags": {
            "choice_input": {
                "type": "checkboxes",
                "selected_options": [{"value": "value", "text": {"type": "plain_text"}}],
            }
        },
        "easy": {"rating_input": {"type": "radio_buttons", "selected_option": {"value": "4"}}},
        "reason": {"text_input": {"type": "plain_text_input", "value": "the runbook"}},
    }


def block_actions(action: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "example"},
        "user": {"id": "UA8RXUSPL", "username": "jtorrance", "name": "jtorrance", "team_id": TEAM},
        "api_app_id": "AABA1ABCD",
        "token": "9s8d9as89d8as9d8as989",
        "container": {
            "type": "message",
            "message_ts": "1548261231.000200",
            "channel_id": "CBR2V3XEX",
            "is_ephemeral": True,
        },
        "trigger_id": "12321423423.333649436676.d8c1bb837935619ccad0f624c448ffb3",
        "channel": {"id": "CBR2V3XEX", "name": "review-updates"},
        "response_url": RESPONSE_URL,
        "state": {"values": inline_form_state()},
        "actions": [{**action, "block_id": "=qXel", "action_ts": "1548426417.840180"}],
        **fields,
    }


def rendered_elements(message: Message) -> list[dict[str, Any]]:
    blocks = render_blocks(message)
    return [
        element for block in blocks if block["type"] == "actions" for element in block["elements"]
    ]


def test_a_slash_command_names_workspace_person_channel_and_neutral_text() -> None:
    command = read_command(slash_command())

    actor = command.actor
    # Slack's documented example comes from an Enterprise Grid org: the person is identified
    # in the org (the payload's enterprise id), and acted in workspace TEAM of it.
    assert (actor.platform, actor.workspace_id, actor.user_id, actor.channel_id) == (
        "slack",
        "E0001",
        "U2147483697",
        "C2147483705",
    )
    assert (actor.team_id, actor.enterprise_id) == (TEAM, "E0001")
    assert (actor.display_name, actor.workspace_name) == ("steve", "Globular Construct Inc")
    # Slack's escaping undone; mentions already have the neutral shape.
    assert command.text == "/kudos <@U0BOB|bob> for R&D's <deploy> script #easy"
    key = "slack:command:T0001:13345224609.738474920.8088930838d88f008e0"
    assert command.dedupe_key == key == command_key(slash_command())
    where = command.where
    assert (where.team_id, where.enterprise_id, where.user_id, where.channel_id) == (
        TEAM,
        "E0001",
        actor.user_id,
        actor.channel_id,
    )
    assert where.response_url == "https://hooks.slack.com/commands/1234/5678"
    assert where.trigger_id == "13345224609.738474920.8088930838d88f008e0"


def test_a_bare_command_is_its_name_and_a_direct_message_has_no_place_to_post() -> None:
    command = read_command(slash_command(text="", channel_id=""))
    without_trigger = slash_command()
    del without_trigger["trigger_id"]

    assert command.text == "/kudos"
    assert command.actor.channel_id is None and command.where.channel_id is None
    assert read_command(without_trigger).dedupe_key is None


def test_a_reaction_event_names_who_reacted_whose_message_and_the_event_id() -> None:
    read = read_reaction(event_envelope(reaction()))

    assert read is not None and read.added
    assert (read.actor.workspace_id, read.actor.user_id, read.actor.channel_id) == (
        TEAM,
        "U123ABC456",
        "C123ABC456",
    )
    assert read.emoji == "raised_hands"  # the skin tone is not part of the name
    assert read.on_message and read.author_id == "U222222222"
    assert read.message_ref == "C123ABC456:1360782400.498405"
    assert (read.dedupe_key, read.event_id) == ("slack:event:Ev123ABC456", "Ev123ABC456")
    assert (read.where.team_id, read.where.user_id, read.where.channel_id) == (
        TEAM,
        "U123ABC456",
        "C123ABC456",
    )


def test_a_removed_reaction_and_reactions_that_name_no_message() -> None:
    removed = read_reaction(event_envelope(reaction("reaction_removed")))
    own_file = reaction(item={"type": "file", "file": "F123ABC456"})
    del own_file["item_user"]

    assert removed is not None and not removed.added
    assert removed.message_ref == "C123ABC456:1360782400.498405"
    # A reaction to a file has no channel and message: nothing to thank or revoke.
    assert read_reaction(event_envelope(own_file)) is None


def test_a_redelivered_event_keeps_its_key_and_one_without_an_id_gets_its_own() -> None:
    first = read_reaction(event_envelope(reaction(), event_id="Ev0RETRY"))
    retry = read_reaction(event_envelope(reaction(), event_id="Ev0RETRY"))
    nameless = event_envelope({"type": "app_uninstalled"}, event_id="")

    assert first is not None and retry is not None and first.dedupe_key == retry.dedupe_key
    assert re.fullmatch(r"slack:event:[0-9a-f]{32}", read_uninstall(nameless).dedupe_key)


def test_an_uninstall_names_the_workspace_and_enterprise() -> None:
    plain = read_uninstall(event_envelope({"type": "app_uninstalled"}))
    grid = read_uninstall({**event_envelope({"type": "tokens_revoked"}), "enterprise_id": "E1"})

    assert (plain.team_id, plain.enterprise_id) == (TEAM, None)
    assert (grid.team_id, grid.enterprise_id) == (TEAM, "E1")
    assert plain.dedupe_key == "slack:event:Ev123ABC456"


def test_an_inline_form_submit_gives_typed_values_context_and_the_click_key() -> None:
    message = Message(audience=ReplyTo(), text="Give kudos", blocks=[KUDOS_FORM])
    [submit] = rendered_elements(message)

    read = read_action(block_actions(submit))

    assert read is not None
    assert (read.form_id, read.context) == ("kudos", {"round": "42"})
    assert read.values == {
        "recipients": ["U0BOB", "U0CAROL"],
        "tags": ["value"],
        "easy": 4,
        "reason": "the runbook",
    }
    assert (read.actor.workspace_id, read.actor.user_id, read.actor.channel_id) == (
        TEAM,
        "UA8RXUSPL",
        "CBR2V3XEX",
    )
    assert read.actor.display_name == "jtorrance"
    assert read.dedupe_key == "slack:action:UA8RXUSPL:1548426417.840180"
    assert (read.where.channel_id, read.where.response_url) == ("CBR2V3XEX", RESPONSE_URL)
    assert read.where.trigger_id is None  # a modal is not opened from a click


def test_a_plain_button_names_its_form_and_carries_its_value() -> None:
    message = Message(
        audience=ReplyTo(),
        text="Pulse",
        blocks=[Buttons(buttons=[Button(action="pulse:skip", label="Skip", value="42")])],
    )
    [button] = rendered_elements(message)
    # A button in a DM: the channel comes from the container alone.
    click = block_actions(button, channel=None)
    click["container"]["channel_id"] = "D0ALICE"

    read = read_action(click)

    assert read is not None
    assert (read.form_id, read.values, read.context) == ("pulse:skip", {"value": "42"}, {})
    assert read.actor.channel_id == read.where.channel_id == "D0ALICE"


def test_a_click_on_something_that_is_not_our_form_is_not_read() -> None:
    foreign = block_actions({"action_id": "kp_form_submit", "type": "button", "value": "x"})
    other = block_actions({"action_id": "WaXA", "type": "button", "value": "click_me_123"})

    assert read_action(foreign) is None and read_action(other) is None


def test_a_modal_submit_reads_values_the_channel_from_metadata_and_its_inputs() -> None:
    view = modal_view(KUDOS_FORM, channel_id="C2147483705")
    payload = {
        "type": "view_submission",
        # Slack's own example: the person's home team may differ from the workspace.
        "team": {"id": "T0CAG", "domain": "acme-creamery"},
        "user": {"id": "U0CA5", "username": "Amy McGee", "name": "Amy McGee", "team_id": "T3MDE"},
        "api_app_id": "A1AGF",
        "token": "XXYYZZ",
        "trigger_id": "12345.98765.abcd2358fdea",
        "view": {
            **view,
            "id": "VNHU13V36",
            "team_id": "T0CAG",
            "hash": "156663117.cd33ad1f",
            "state": {"values": inline_form_state()},
        },
        "response_urls": [],
    }

    read = read_view_submission(payload)

    assert read is not None
    assert (read.actor.workspace_id, read.actor.user_id, read.actor.channel_id) == (
        "T0CAG",
        "U0CA5",
        "C2147483705",
    )
    assert (read.form_id, read.context) == ("kudos", {"round": "42"})
    assert read.values["recipients"] == ["U0BOB", "U0CAROL"] and read.values["easy"] == 4
    assert read.dedupe_key == "slack:view:VNHU13V36:156663117.cd33ad1f"
    assert read.input_blocks == ("recipients", "tags", "easy", "reason")
    assert (read.where.team_id, read.where.user_id, read.where.channel_id) == (
        "T0CAG",
        "U0CA5",
        "C2147483705",
    )


def test_a_modal_that_is_not_ours_is_not_read() -> None:
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": "U0CA5"},
        "view": {"id": "V1", "private_metadata": "shhh-its-secret", "state": {"values": {}}},
    }

    assert read_view_submission(payload) is None
