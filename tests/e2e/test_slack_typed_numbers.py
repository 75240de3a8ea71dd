"""Numbers people type — ids, ratings, days — get a clean refusal when they are not ASCII digits
in range (ids ≥ 2³¹, ≥ 2⁶³, superscripts, other scripts' digits), never "something went wrong"
and never a rise in the error counter operators alert on; on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from storage.models import DigestSchedule, PulseSchedule
from tests.harness.fakes.slack_api import block_text
from tests.harness.helpers import count
from tests.harness.slack import SlackHarness

pytestmark = pytest.mark.asyncio

HOSTILE = [
    ("/answer", "2147483648 easy=5 value=5"),
    ("/answer", "9223372036854775808 easy=5 value=5"),
    ("/answer", "#99999999999999999999999 easy=5 value=5"),
    ("/answer", "\u00b2 easy=5 value=5"),
    ("/answer", "\u0661 easy=5 value=5"),
    ("/answer", "1 easy=\u00b2 value=5"),
    ("/answer", "1 easy=\u0665 value=5"),
    ("/pulse", "results 2147483648"),
    ("/pulse", "results 9223372036854775808"),
    ("/pulse", "pause \u00b2"),
    ("/pulse", "resume \u00b3"),
    ("/pulse", "cancel 18446744073709551616"),
    ("/digest", "cancel 2147483648"),
    ("/digest", "cancel \u00b2"),
    ("/pulse", 'schedule "the tool" to #general every \u00b2 at 11:00 tz UTC'),
    ("/pulse", 'schedule "the tool" to #general every 1-5/\u00b2 at 11:00 tz UTC'),
    ("/pulse", 'now "the tool" to #general open \u0661\u0662h'),
]


def _errors() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "kudos_pulse_commands"
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("outcome") == "error"
    )


@pytest.mark.parametrize(("command", "text"), HOSTILE, ids=[f"{c} {t}" for c, t in HOSTILE])
async def test_a_hostile_number_is_refused_cleanly(
    slack: SlackHarness, command: str, text: str
) -> None:
    errors = _errors()

    response = await slack.command(text, user="UADMIN", command=command)
    await slack.settle()

    assert response.status == 200
    answers = slack.private_answers()
    assert len(answers) == 1
    shown = block_text(answers[0]["blocks"])
    assert "went wrong" not in shown and shown.strip()
    assert _errors() == errors
    assert await count(slack.app.db, PulseSchedule) == 0
    assert await count(slack.app.db, DigestSchedule) == 0
