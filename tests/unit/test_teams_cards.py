"""Neutral messages as Adaptive Cards, and card submissions read back for the core."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from botbuilder.schema import Activity

from adapters.teams import cards
from adapters.teams.inbound import actor_of, command_text, timezone_of
from bot.messages import (
    Button,
    Buttons,
    ChannelLink,
    Choice,
    ChoiceInput,
    Context,
    Divider,
    Fields,
    Form,
    Header,
    Mention,
    Message,
    PeopleInput,
    Quote,
    RatingInput,
    ReplyTo,
    Section,
    Strong,
    Text,
    TextInput,
    ToPerson,
)
from bot.pulses.messages import results_blocks, results_for
from bot.pulses.rules import from_tally, tally
from tests.conftest import make_config

PULSE_FORM = Form(
    form_id="pulse",
    title="Did the new expense tool make things EASY and add VALUE?",
    submit_label="Send",
    inputs=[
        RatingInput(name="easy", label="EASY", low_label="hard", high_label="very easy"),
        RatingInput(name="value", label="VALUE", low_label="none", high_label="a lot", selected=4),
        TextInput(name="comment", label="Anything to add?", optional=True, multiline=True),
        ChoiceInput(
            name="teams",
            label="Teams",
            multiple=True,
            optional=True,
            choices=[Choice(value="support", label="Support"), Choice(value="ops", label="Ops")],
        ),
        PeopleInput(name="people", label="Who?"),
    ],
    context={"round": "42"},
)


def every_block() -> Message:
    return Message(
        audience=ToPerson(user_id="29:bob"),
        text="summary",
        blocks=[
            Header(text="Weekly <digest> & more"),
            Section(
                spans=[
                    Text(text="Hi "),
                    Mention(user_id="29:bob", name="Bob"),
                    Text(text=" from "),
                    ChannelLink(channel_id="19:x", name="support"),
                    Text(text=": "),
                    Strong(text="great"),
                ]
            ),
            Quote(text="<at>Carol</at> & <b>friends</b>"),
            Fields(items=[("Given", "3"), ("Received <this week>", "5")]),
            Divider(),
            Context(spans=[Text(text="small print")]),
            Buttons(buttons=[Button(action="pulse:skip", label="Skip", value="42")]),
            PULSE_FORM,
        ],
    )


def body_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    return card["body"]


def test_every_block_and_input_kind_renders_as_adaptive_card_1_4() -> None:
    activity = cards.render(every_block(), origin="19:general@thread.tacv2")
    [attachment] = activity.attachments
    card = attachment.content

    assert attachment.content_type == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard" and float(card["version"]) <= 1.5
    assert activity.text is None  # text beside a card would be split into two messages
    kinds = [element["type"] for element in body_of(card)]
    assert kinds[:7] == [
        "TextBlock",
        "TextBlock",
        "Container",
        "FactSet",
        "TextBlock",
        "ActionSet",
        "TextBlock",
    ]
    assert body_of(card)[4].get("separator") is True  # the divider separates what follows
    section = body_of(card)[1]["text"]
    assert section == "Hi <at>Bob</at> from #support: **great**"
    assert card["msteams"]["entities"] == [
        {"type": "mention", "text": "<at>Bob</at>", "mentioned": {"id": "29:bob", "name": "Bob"}}
    ]
    assert [entity.mentioned.id for entity in activity.entities] == ["29:bob"]
    inputs = {element["id"]: element for element in body_of(card) if "id" in element}
    assert [choice["value"] for choice in inputs["easy"]["choices"]] == ["1", "2", "3", "4", "5"]
    assert inputs["easy"]["choices"][0]["title"] == "1 — hard"
    assert inputs["easy"]["choices"][4]["title"] == "5 — very easy"
    assert inputs["value"]["value"] == "4"
    assert inputs["comment"]["type"] == "Input.Text" and inputs["comment"]["isRequired"] is False
    assert inputs["teams"]["isMultiSelect"] is True
    assert inputs["people"]["choices.data"]["dataset"] == "graph.microsoft.com/users"
    [submit] = card["actions"]
    assert submit["data"]["kp_form"] == "pulse"
    assert submit["data"]["kp_context"] == {"round": "42"}
    assert submit["data"]["kp_origin"] == "19:general@thread.tacv2"


def test_user_text_is_escaped_so_it_cannot_mention_or_format() -> None:
    card = cards.adaptive_card(every_block())

    assert body_of(card)[0]["text"] == "Weekly &lt;digest&gt; &amp; more"
    assert body_of(card)[2]["items"][0]["text"] == (
        "&lt;at&gt;Carol&lt;/at&gt; &amp; &lt;b&gt;friends&lt;/b&gt;"
    )
    assert body_of(card)[3]["facts"][1]["title"] == "Received &lt;this week&gt;"
    assert [entity["mentioned"]["id"] for entity in card["msteams"]["entities"]] == ["29:bob"]


def test_a_message_without_blocks_is_escaped_text() -> None:
    activity = cards.render(Message(audience=ReplyTo(), text="Use <@you> & me"))
    assert activity.text == "Use &lt;@you&gt; &amp; me" and not activity.attachments


def test_a_huge_message_is_shortened_under_28_kb_and_keeps_its_inputs() -> None:
    message = Message(
        audience=ReplyTo(),
        text="long",
        blocks=[*(Quote(text="word " * 2000) for _ in range(10)), PULSE_FORM],
    )
    card = cards.adaptive_card(message)

    assert len(json.dumps(card, ensure_ascii=False).encode()) <= cards.MAX_CARD_BYTES
    assert {element.get("id") for element in body_of(card)} >= {"easy", "value", "comment"}


def test_a_submission_is_read_back_with_typed_values_and_context() -> None:
    [submit] = cards.adaptive_card(every_block())["actions"]
    value = {
        **submit["data"],
        "easy": "5",
        "value": "2",
        "comment": "Less clicking",
        "teams": "support,ops",
        "people": "aad-1,aad-2",
    }

    submission = cards.read_submission(value)

    assert submission is not None
    assert submission.form_id == "pulse"
    assert submission.context == {"round": "42"}
    assert submission.values == {
        "easy": 5,
        "value": 2,
        "comment": "Less clicking",
        "teams": ["support", "ops"],
        "people": ["aad-1", "aad-2"],
    }
    assert submission.people == {"people": ["aad-1", "aad-2"]}


def test_unanswered_inputs_and_buttons() -> None:
    [submit] = cards.adaptive_card(every_block())["actions"]
    empty = cards.read_submission(dict(submit["data"]))
    assert empty is not None
    assert empty.values == {"comment": "", "teams": [], "people": []}  # no ratings: not given

    button = cards.read_submission({"kp_action": "pulse:skip", "kp_value": "42"})
    assert button is not None and button.form_id == "pulse:skip"
    assert button.values == {"value": "42"}
    assert cards.read_submission({"something": "else"}) is None
    assert cards.read_submission("text") is None


def channel_message(text: str, entities: list[dict[str, Any]], **extra: Any) -> Activity:
    return Activity().deserialize(
        {
            "type": "message",
            "id": "1",
            "text": text,
            "from": {"id": "29:alice", "name": "Alice"},
            "recipient": {"id": "28:bot", "name": "Kudos"},
            "conversation": {
                "id": "19:c@thread.tacv2;messageid=1",
                "conversationType": "channel",
                "tenantId": "t",
            },
            "channelData": {"tenant": {"id": "t"}, "channel": {"id": "19:c@thread.tacv2"}},
            "entities": entities,
            **extra,
        }
    )


def test_inbound_text_loses_the_bots_mention_and_gets_neutral_mentions() -> None:
    activity = channel_message(
        "<at>Kudos</at>&nbsp;kudos <at>Bob</at> thanks for fish &amp; chips #easy",
        [
            {"type": "mention", "text": "<at>Kudos</at>", "mentioned": {"id": "28:bot"}},
            {"type": "mention", "text": "<at>Bob</at>", "mentioned": {"id": "29:bob"}},
            {"type": "clientInfo", "timezone": "America/Los_Angeles"},
        ],
    )

    assert command_text(activity) == "kudos <@29:bob> thanks for fish & chips #easy"
    assert timezone_of(activity) == "America/Los_Angeles"
    actor = actor_of(activity)
    assert actor is not None
    assert (actor.workspace_id, actor.user_id, actor.channel_id) == (
        "t",
        "29:alice",
        "19:c@thread.tacv2",
    )
    assert actor.timezone == "America/Los_Angeles"


def test_local_timezone_wins_and_a_bare_mention_means_help() -> None:
    activity = channel_message(
        "<at>Kudos</at>",
        [{"type": "mention", "text": "<at>Kudos</at>", "mentioned": {"id": "28:bot"}}],
        localTimezone="Europe/Lisbon",
    )
    assert command_text(activity) == "help"
    assert timezone_of(activity) == "Europe/Lisbon"


def test_people_are_offered_as_choices_only_while_the_list_fits_a_card() -> None:
    form = Form(
        form_id="kudos",
        title="Give kudos",
        submit_label="Send",
        inputs=[PeopleInput(name="recipients", label="Who?")],
    )
    message = Message(audience=ReplyTo(), text="Give kudos", blocks=[form])
    few = [("29:b", "Bea"), ("29:a", "Al")]
    many = [(f"29:{index}", f"Person {index}") for index in range(cards.MAX_PEOPLE_CHOICES + 1)]

    small = cards.adaptive_card(message, people=few)["body"][1]
    large = cards.adaptive_card(message, people=many)["body"][1]

    assert small["choices"] == [{"title": "Al", "value": "29:a"}, {"title": "Bea", "value": "29:b"}]
    assert large["choices.data"]["dataset"] == "graph.microsoft.com/users"


def test_the_emulator_stands_in_for_a_tenant() -> None:
    activity = Activity().deserialize(
        {
            "type": "message",
            "id": "1",
            "channelId": "emulator",
            "text": "kudos help",
            "from": {"id": "user-1", "name": "User"},
            "recipient": {"id": "bot"},
            "conversation": {"id": "conv-1"},
        }
    )
    actor = actor_of(activity)
    assert actor is not None and actor.workspace_id == "emulator" and actor.channel_id is None


def test_pulse_results_with_many_long_comments_fit_one_card() -> None:
    answers = [(4, 5, f"comment {n}: " + "long thoughts " * 75) for n in range(40)]
    result = from_tally(
        40,
        tally((easy, value) for easy, value, _ in answers),
        shown=True,
        comments=[comment for _, _, comment in answers],
    )
    text, blocks = results_blocks(
        make_config(),
        7,
        "the new expense tool",
        result,
        [],
        closed=True,
        closes_at=datetime(2026, 11, 18, 10, tzinfo=UTC),
        zone="Europe/Berlin",
    )
    card = cards.adaptive_card(results_for("29:alice", text, blocks))

    assert card["version"] in ("1.4", "1.5")
    assert len(json.dumps(card, ensure_ascii=False).encode()) <= cards.MAX_CARD_BYTES
    shown = json.dumps(card, ensure_ascii=False)
    # Every comment is still there (shortened), and so are the numbers.
    assert all(f"comment {n}:" in shown for n in range(40))
    assert "40 of 40 answered (100%)" in shown
