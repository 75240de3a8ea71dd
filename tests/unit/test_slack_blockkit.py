"""Block Kit rendering stays inside Slack's limits and never lets user text ping or inject."""

from __future__ import annotations

from adapters.slack.blockkit import fallback_text, modal_view, render_blocks
from adapters.slack.text import neutral_text
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
    Section,
    Strong,
    Text,
    ToChannel,
)


def _message(*blocks: object, text: str = "summary") -> Message:
    return Message(audience=ToChannel(channel_id="C1"), text=text, blocks=list(blocks))  # type: ignore[arg-type]


def test_every_block_kind_renders_with_escaped_user_text() -> None:
    blocks = render_blocks(
        _message(
            Header(text="Top <kudos> & more"),
            Section(
                spans=[
                    Text(text="<!channel> & "),
                    Strong(text="bold <b>"),
                    Text(text=" to "),
                    Mention(user_id="U1", name="ann"),
                    Text(text=" in "),
                    ChannelLink(channel_id="C9", name="general"),
                ]
            ),
            Quote(text="line one <@U2>\nline two"),
            Fields(items=[("A & B", "<1>")]),
            Context(spans=[Text(text="small <print>")]),
            Divider(),
            Buttons(buttons=[Button(action="vote", label="Yes", value="y", style="primary")]),
        )
    )
    kinds = [block["type"] for block in blocks]
    assert kinds == ["header", "section", "section", "section", "context", "divider", "actions"]
    assert blocks[0]["text"] == {"type": "plain_text", "text": "Top <kudos> & more", "emoji": True}
    assert blocks[1]["text"]["text"] == "&lt;!channel&gt; &amp; *bold &lt;b&gt;* to <@U1> in <#C9>"
    assert blocks[2]["text"]["text"] == ">line one &lt;@U2&gt;\n>line two"
    assert blocks[3]["fields"][0]["text"] == "*A &amp; B*\n&lt;1&gt;"
    assert blocks[6]["elements"][0]["style"] == "primary"


def test_limits_are_respected() -> None:
    many = [Section(spans=[Text(text=f"row {n}")]) for n in range(80)]
    blocks = render_blocks(_message(*many))
    assert len(blocks) == 50 and "31 more not shown" in blocks[-1]["elements"][0]["text"]

    long = render_blocks(_message(Section(spans=[Text(text="&" * 2000)]), Header(text="h" * 400)))
    assert len(long[0]["text"]["text"]) <= 3000
    assert long[0]["text"]["text"].endswith("&amp;…")  # never half an entity
    assert len(long[1]["text"]["text"]) == 150

    fields = render_blocks(_message(Fields(items=[(str(n), "v") for n in range(23)])))
    assert [len(block["fields"]) for block in fields] == [10, 10, 3]
    assert len(fallback_text(_message(text="x" * 5000))) <= 3000


def test_a_modal_carries_its_form_and_channel() -> None:
    form = Form(
        form_id="kudos",
        title="Give kudos to someone who really helped",
        submit_label="Send kudos",
        modal=True,
        context={"k": "v"},
        inputs=[
            PeopleInput(name="recipients", label="Who?"),
            ChoiceInput(
                name="tag",
                label="Value",
                choices=[Choice(value=f"t{n}", label=f"Tag {n}") for n in range(12)],
            ),
        ],
    )
    view = modal_view(form, channel_id="C1")
    assert len(view["title"]["text"]) <= 24
    assert view["private_metadata"] == '{"f":"kudos","c":{"k":"v"},"ch":"C1"}'
    elements = [block["element"]["type"] for block in view["blocks"]]
    assert elements == ["multi_users_select", "static_select"]  # > 10 choices: a menu


def test_inbound_text_is_made_neutral() -> None:
    assert neutral_text("<@U1|ann> R&amp;D &lt;ok&gt; &amp;lt;") == "<@U1|ann> R&D <ok> &lt;"
