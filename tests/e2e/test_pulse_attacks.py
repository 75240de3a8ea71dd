"""Anonymity is a promise: play every attack docs/PRIVACY.md names and link nothing.

People answer with distinctive ratings and comments; then, holding the database (rows, system
columns, dead tuples, raw pages, the WAL — or on SQLite the raw files), the logs, `/metrics`,
the exports and every chat command of an admin, we try to tie an answer to a person."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta

import pytest
from prometheus_client import generate_latest

from bot.app import Application
from bot.ops import logsetup
from bot.ops.keys import Keyring
from bot.pulses.ballot import BallotBox, BallotUnreadable
from bot.pulses.export import export_rows
from bot.runtime.clock import ManualClock
from storage.repositories import pulses as repo
from tests.conftest import ON_POSTGRES, TEST_PULSE_KEY, ConsoleHarness
from tests.e2e import attacker
from tests.e2e.test_slack_pulses import _answer_click, _answers_to, _questions
from tests.e2e.test_teams_pulses import answer
from tests.harness.helpers import sealed_answers
from tests.harness.slack import SlackHarness
from tests.harness.teams import (
    TeamsChat,
    at,
)

RESPONDENTS = {
    # person: (easy, value, comment) — every answer is unique, so any link would show.
    "bob": (1, 5, "comment-from-bob"),
    "carol": (2, 4, "comment-from-carol"),
    "dan": (3, 3, "comment-from-dan"),
    "erin": (4, 2, "comment-from-erin"),
    "frank": (5, 1, "comment-from-frank"),
    "gina": (5, 5, "comment-from-gina"),
    "hal": (4, 4, "comment-from-hal"),
    "ida": (2, 2, "comment-from-ida"),
}
ANSWERS_TO = "answers-to"  # part of every answer's context, to grep logs for


async def _answer_everyone(console: ConsoleHarness) -> None:
    for person, (easy, value, comment) in RESPONDENTS.items():
        reply = await console.say(f'/answer 1 easy={easy} value={value} "{comment}"', as_user=person)
        assert "saved anonymously" in reply
        # The thanks repeats no score and no comment: a platform would keep it in the chat.
        assert f"EASY {easy}" not in reply and comment not in reply


@pytest.fixture
def operator_log(app: Application) -> Iterator[io.StringIO]:
    """The process's own logging, as `run --log-level DEBUG` sets it up, into a buffer."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    levels = {name: logging.getLogger(name).level for name in logsetup.CHATTY}
    buffer = io.StringIO()
    logsetup.configure(app.config, level="DEBUG", stream=buffer)
    yield buffer
    root.handlers[:], root.level = saved
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def attack_while_open(
    app: Application,
    database_url: str,
    operator_log: io.StringIO,
    answer_everyone: Callable[[], Awaitable[None]],
    respondents: dict[str, tuple[int, int, str]],
    round_id: int = 1,
) -> None:
    """Attacks 1–4 and the operator's view, around `answer_everyone` (any platform's path)."""
    before = await attacker.rows(app.db)
    if ON_POSTGRES:
        await attacker.install_tools(app.db)
    wal_start = await attacker.wal_position(app.db) if ON_POSTGRES else None
    logged_before = len(operator_log.getvalue())

    await answer_everyone()
    after = await attacker.rows(app.db)

    # Attack 3 — a who-answered-when record: the only table answering changed is the sealed
    # ballot box. No dedupe row, no "answered" flag, no person refresh, no inbox or outbox row,
    # no stored conversation reference.
    assert set(attacker.changed_tables(before, after)) == {"pulse_ballots"}
    assert await sealed_answers(app, round_id) == len(respondents)

    # Attack 2 — the key beside the data: no stored value is the key, and none opens a bucket.
    everything = attacker.strings_in(after)
    assert TEST_PULSE_KEY not in everything
    assert "pulses.secret" not in everything
    async with app.db.read() as unit:
        buckets = await repo.ballots(unit, round_id)
    candidates = {word for word in everything.split("'") if 16 <= len(word) < 200}
    for candidate in candidates:
        box = BallotBox(Keyring(candidate.encode(), "a guess"))
        for bucket, sealed in buckets:
            if sealed:
                with pytest.raises(BallotUnreadable):
                    box.open(round_id, bucket, sealed)

    # Attack 4 — order and contents on disk: no comment, tag or score exists in plain bytes.
    raw = (
        await attacker.raw_pages(app.db, "pulse_ballots")
        if ON_POSTGRES
        else attacker.sqlite_files(database_url)
    )
    for _, _, comment in respondents.values():
        assert comment.encode() not in raw
        assert comment not in everything
    sizes = {len(sealed or b"") for _, sealed in buckets}
    # Entries are padded to one width: a bucket's size says how many, not what.
    assert all((size - 28) % 4200 == 0 for size in sizes if size)

    if ON_POSTGRES:
        # Attack 1 — the same transaction id: every transaction that wrote while people
        # answered touched the ballot table (and its TOAST) and nothing else, in the WAL and
        # in every tuple still on disk, live or dead.
        names = await attacker.relations(app.db)
        writes = await attacker.wal_writes(app.db, wal_start)
        assert writes, "the WAL should show the answers' transactions"
        for xid, nodes in writes.items():
            touched = {names.get(node, f"other relation {node}") for node in nodes}
            assert touched <= {"pulse_ballots", "pulse_ballots_pkey"}, (xid, touched)
        for found in await attacker.heap_tuples(app.db):
            if found.xmin in writes:
                assert found.relation == "pulse_ballots", found

    # Logs and metrics: nothing names a respondent next to the act of answering, nothing
    # repeats a score or a comment.
    logging.getLogger("bot.core").debug("the operator's log is being written")
    assert "the operator's log is being written" in operator_log.getvalue()
    logged = operator_log.getvalue()[logged_before:]
    for person, (easy, value, comment) in respondents.items():
        assert comment not in logged and f"easy={easy} value={value}" not in logged
        assert person not in logged
    metrics = generate_latest().decode()
    assert not any(person in metrics for person in respondents)


async def test_the_database_alone_links_no_answer_to_anyone(
    console: ConsoleHarness,
    app: Application,
    clock: ManualClock,
    database_url: str,
    operator_log: io.StringIO,
) -> None:
    console.platform.seen("eng", *RESPONDENTS, "zoe")
    await console.say('/pulse now "the deploy pipeline" to #eng open 2h', as_user="admin")
    await attack_while_open(
        app, database_url, operator_log, lambda: _answer_everyone(console), RESPONDENTS
    )

    # While open, an admin sees only a coarse count: watching it tick up cannot tell who.
    watching = await console.say("/pulse results 1", as_user="admin")
    assert "5 or more answers so far" in watching and "EASY:" not in watching

    # After close: a tally and shuffled comments; the buckets are gone, old versions too.
    clock.advance(timedelta(hours=2))
    await app.scheduler.tick()
    await app.outbox.drain()
    closed = await attacker.rows(app.db)
    assert closed["pulse_ballots"] == set()
    if ON_POSTGRES:
        assert await attacker.raw_pages(app.db, "pulse_ballots") == b""
        assert not [t for t in await attacker.heap_tuples(app.db) if t.relation == "pulse_ballots"]
    shown = await console.say("/pulse results 1", as_user="admin")
    quoted = sorted(line.strip()[2:] for line in shown.splitlines() if line.strip().startswith("> "))
    assert quoted == sorted(comment for _, _, comment in RESPONDENTS.values())
    for line in "\n".join(console.lines).splitlines():
        if "comment-from-" in line:  # a comment only ever appears as an anonymous quote
            assert line.strip().startswith("> ") and "@" not in line

    exported = [row async for row in export_rows(app.db, since=None, workspace_id=None)]
    assert len(exported) == 1
    assert not any(person in repr(exported) for person in RESPONDENTS)
    assert "comment-from" not in repr(exported)


async def test_differencing_two_rounds_recovers_nothing(
    console: ConsoleHarness, app: Application, clock: ManualClock
) -> None:
    """Attack 5: two concurrent rounds on one subject, audiences one person apart."""
    team = list(RESPONDENTS)[:6]
    console.platform.seen("eng", *team)
    console.platform.seen("eng-plus", *team, "zoe")
    first = await console.say('/pulse now "the rota" to #eng open 1h', as_user="admin")
    assert "differs from pulse" not in first
    second = await console.say('/pulse now "the rota" to #eng-plus open 2h', as_user="admin")
    assert "⚠️ This audience differs from pulse 1's by fewer than 5 people" in second
    for person in team:
        easy, value, comment = RESPONDENTS[person]
        for round_id in (1, 2):
            await console.say(
                f'/answer {round_id} easy={easy} value={value} "{comment}"', as_user=person
            )
    await console.say('/answer 2 easy=1 value=1 "zoe-only-comment"', as_user="zoe")

    clock.advance(timedelta(hours=1))
    await app.scheduler.tick()
    clock.advance(timedelta(hours=1))
    await app.scheduler.tick()
    await app.outbox.drain()
    one = await console.say("/pulse results 1", as_user="admin")
    two = await console.say("/pulse results 2", as_user="admin")
    assert "EASY:" in one  # the first to close is shown …
    assert "EASY:" not in two and "zoe-only-comment" not in two  # … the second is not
    assert "differs from pulse 1's by fewer than 5 people" in two
    # Nothing else shows it either: not the export, not the database.
    exported = [row async for row in export_rows(app.db, since=None, workspace_id=None)]
    assert [row["round_id"] for row in exported] == [1]
    dump = attacker.strings_in(await attacker.rows(app.db))
    assert "zoe-only-comment" not in dump


SLACK_PEOPLE = {f"U{name.upper()}": answer for name, answer in list(RESPONDENTS.items())[:5]}
TEAMS_PEOPLE = {name: RESPONDENTS[name] for name in ("bob", "carol", "dan", "erin")}


async def test_slack_answers_link_nothing(
    slack: SlackHarness, database_url: str, operator_log: io.StringIO
) -> None:
    slack.fake.channels["CENG"] = list(SLACK_PEOPLE)
    await slack.command('now "the pipeline" to <#CENG|eng>', user="UADMIN", command="/pulse")
    await slack.settle()
    questions = _questions(slack)

    async def answer_everyone() -> None:
        for user, (easy, value, comment) in SLACK_PEOPLE.items():
            click = _answer_click(slack, questions[user], user, easy, value, comment)
            assert (await slack.interaction(click)).status == 200
        await slack.adapter.work.drain()

    await attack_while_open(slack.app, database_url, operator_log, answer_everyone, SLACK_PEOPLE)
    for user in SLACK_PEOPLE:
        [thanks] = _answers_to(slack, user)
        assert "saved anonymously" in thanks and "EASY" not in thanks


async def test_teams_answers_link_nothing(
    teams: TeamsChat, database_url: str, operator_log: io.StringIO
) -> None:
    await teams.install_personal("alice")
    teams.app.config.admins.append("29:alice")
    mentions = " ".join(at(name) for name in TEAMS_PEOPLE)
    await teams.say("alice", f'pulse now "the pipeline" to {mentions}', mentions=TEAMS_PEOPLE)

    async def answer_everyone() -> None:
        for name, (easy, value, comment) in TEAMS_PEOPLE.items():
            [thanks] = await answer(teams, name, easy, value, comment, deliver=False)
            # A Teams reply stays in the person's chat (eDiscovery): no score, no comment.
            assert "saved anonymously" in thanks.shown and comment not in thanks.shown
            assert "EASY" not in thanks.shown

    await attack_while_open(teams.app, database_url, operator_log, answer_everyone, TEAMS_PEOPLE)
