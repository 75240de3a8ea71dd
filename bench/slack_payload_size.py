"""How large can a genuine Slack request to /slack/events get? Sets `MAX_BODY` in
adapters/slack/verify.py.

The largest requests we receive are modal submissions: Slack sends the whole view back (every
block as we rendered it) plus its state. This builds the kudos modal at every limit the bot
allows (100 awards with the longest labels and 32-character tags, a 3,000-character reason,
100 people picked) from astral-plane characters, which cost the most once JSON-escaped and
URL-encoded (`\\ud83d\\ude00` → 16 bytes per character), and prints the size of the body
Slack would post.

    .venv/bin/python bench/slack_payload_size.py
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from adapters.slack.blockkit import modal_view
from bot.kudos.messages import form_reply
from bot.messages import Form
from bot.ops.config import Award, KudosSettings

EMOJI = "😀"


def worst_view_submission() -> str:
    awards = [Award(tag=f"t{i:02d}" + "x" * 29, label=EMOJI * 70, emoji=EMOJI) for i in range(100)]
    settings = KudosSettings(awards=awards, max_reason_length=3000)
    form = next(b for b in form_reply(settings).messages[0].blocks if isinstance(b, Form))
    view = modal_view(form, channel_id="C" + "0" * 10)
    options = view["blocks"][1]["element"]["options"]
    view |= {
        "id": "V" + "0" * 10,
        "team_id": "T" + "0" * 10,
        "state": {
            "values": {
                "recipients": {
                    "people_input": {
                        "type": "multi_users_select",
                        "selected_users": [f"U{i:010d}" for i in range(100)],
                    }
                },
                "tags": {
                    "choice_input": {"type": "multi_static_select", "selected_options": options}
                },
                "reason": {"text_input": {"type": "plain_text_input", "value": EMOJI * 3000}},
            }
        },
        "hash": "1" * 30,
        "root_view_id": "V" + "0" * 10,
        "app_id": "A" + "0" * 10,
        "bot_id": "B" + "0" * 10,
    }
    payload = {
        "type": "view_submission",
        "team": {"id": "T" + "0" * 10, "domain": "x" * 21},
        "user": {"id": "U" + "0" * 10, "username": "x" * 80, "team_id": "T" + "0" * 10},
        "api_app_id": "A" + "0" * 10,
        "token": "x" * 24,
        "trigger_id": "1" * 60,
        "view": view,
        "response_urls": [],
    }
    # Slack escapes every non-ASCII character in its JSON (ensure_ascii), then form-encodes it.
    return urlencode({"payload": json.dumps(payload, ensure_ascii=True)})


if __name__ == "__main__":
    body = worst_view_submission()
    print(f"largest kudos modal submission: {len(body.encode())} bytes")
