"""Digest at scale: every team's weekly digest for a large organisation, against the floor.

    python bench/digest_scale.py              # SQLite (generated file cached in bench/.cache)
    python bench/digest_scale.py --postgres   # PostgreSQL: creates and drops digests_bench

The organisation: 10,000 people in 200 teams of 50, 1,000,000 recognitions over two years
(1–3 recipients each, #easy/#value tags, 1 % revoked) and 2,000 closed weekly pulse rounds
(10 per team, asked of the whole team) in the pulses feature's own tables: schedules, rounds,
deliveries and answers keyed by the same HMAC respondent key the service computes. About one
round in ten has fewer answers than the anonymity threshold. The digest reads them through
`StoredPulseSummaries`, wired as the application wires it.

Measured, in a fresh child process so the memory peak is the build's own:
  * service: `DigestService.build` for all 200 teams (all due at the same moment in the same
    zone, so one batch) + `render_digest` for each — the real code a scheduler tick runs;
  * floor: the same aggregates as ONE hand-written SQL statement for all teams;
  * per-team: the service called once per team (the `/digest now` path), for comparison;
  * the child's peak RSS (VmHWM; see `peak_rss_mb`).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, text  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from bot.digests.messages import render_digest  # noqa: E402
from bot.digests.rules import window_ending  # noqa: E402
from bot.digests.service import DigestService  # noqa: E402
from bot.groups.service import TeamService  # noqa: E402
from bot.messages import ToPerson  # noqa: E402
from bot.ops.config import Config, load_config  # noqa: E402
from bot.people.directory import People  # noqa: E402
from bot.pulses.rules import tally  # noqa: E402
from bot.pulses.summaries import StoredPulseSummaries  # noqa: E402
from bot.pulses.visibility import decide  # noqa: E402
from bot.runtime.clock import ManualClock  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Team  # noqa: E402
from storage.repositories.pulses import Tally  # noqa: E402
from storage.types import UTCDateTime  # noqa: E402

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # a Friday: every team's digest is due
ZONE = ZoneInfo("UTC")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "digests_bench"
# The pulse hash key, stored in app_settings as the bot stores its generated one, so the
# respondent keys are the ones the service would compute for this database.
BENCH_SECRET = "digest-bench-pulse-secret"
CHUNK = 50_000
T = TypeVar("T")
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite

# --- the organisation ---------------------------------------------------------------------------


class Org:
    def __init__(
        self, people: int, teams: int, recognitions: int, rounds: int, min_responses: int
    ) -> None:
        self.people, self.teams, self.recognitions, self.rounds = (
            people,
            teams,
            recognitions,
            rounds,
        )
        self.min_responses = min_responses
        self.team_size = people // teams
        self.start = NOW - timedelta(days=730)

    def people_rows(self) -> Iterator[tuple[Any, ...]]:
        refreshed = NOW.replace(tzinfo=None)
        for n in range(1, self.people + 1):
            yield (n, 1, f"u{n:05d}", f"Person {n:05d}", "UTC", False, False, refreshed, None)

    def team_rows(self) -> Iterator[tuple[Any, ...]]:
        for t in range(1, self.teams + 1):
            lead = (t - 1) * self.team_size + 1
            yield (t, 1, f"team{t:03d}", lead, None, self.start.replace(tzinfo=None))

    def member_rows(self) -> Iterator[tuple[int, int]]:
        for t in range(1, self.teams + 1):
            for person in self.member_ids(t):
                yield (t, person)

    def recognition_chunks(
        self,
    ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """(recognitions, recipients, tags) in chunks; deterministic (seeded)."""
        rng = random.Random(42)
        span = 730 * 86400
        words = ("refund", "billing", "onboarding", "release", "incident", "support", "docs")
        kudos: list[tuple[Any, ...]] = []
        recipients: list[tuple[Any, ...]] = []
        tags: list[tuple[Any, ...]] = []
        start = self.start.replace(tzinfo=None)
        mean_gap = span / self.recognitions
        moment = 0.0
        for n in range(1, self.recognitions + 1):
            # Poisson arrivals in time order: uniform density over the two years, and the
            # indexes on created_at grow at their end instead of splitting pages at random.
            moment = min(moment + rng.expovariate(1 / mean_gap), span - 1)
            created = start + timedelta(seconds=int(moment))
            giver = rng.randrange(1, self.people + 1)
            roll = rng.random()
            count = 1 if roll < 0.8 else 2 if roll < 0.95 else 3
            chosen: set[int] = set()
            while len(chosen) < count:
                person = rng.randrange(1, self.people + 1)
                if person != giver:
                    chosen.add(person)
            revoked = created + timedelta(minutes=5) if rng.random() < 0.01 else None
            reason = f"for helping with the {words[n % 7]} work, item {n}"
            kudos.append(
                (n, 1, giver, reason, None, "command", None, None, created, created.date(), revoked)
            )
            recipients += [(n, person, 1, created) for person in chosen]
            roll = rng.random()
            if roll < 0.35:
                tags.append((n, "easy"))
            elif roll < 0.60:
                tags.append((n, "value"))
            elif roll < 0.70:
                tags += [(n, "easy"), (n, "value")]
            if len(kudos) == CHUNK:
                yield kudos, recipients, tags
                kudos, recipients, tags = [], [], []
        if kudos:
            yield kudos, recipients, tags

    def member_ids(self, team: int) -> range:
        first = (team - 1) * self.team_size + 1
        return range(first, first + self.team_size)

    def pulse_tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Rows of the pulse tables (in insertion order): one weekly schedule per team with
        its team as audience, `rounds` closed rounds — each with its tally and the visibility
        gate's verdict, as closing stores them — a delivery to every member and comments."""
        rng = random.Random(7)
        per_team = self.rounds // self.teams
        created = self.start.replace(tzinfo=None)
        last_monday = datetime(2026, 11, 16, 10, 0)  # the Monday before NOW
        schedules: list[tuple[Any, ...]] = []
        rounds: list[tuple[Any, ...]] = []
        deliveries: list[tuple[Any, ...]] = []
        comments: list[tuple[Any, ...]] = []
        for t in range(1, self.teams + 1):
            members = self.member_ids(t)
            audience = json.dumps({"kind": "team", "team_id": t})
            subject = f"sprint check-in of team{t:03d}"
            schedules.append(
                (t, 1, members[0], subject, audience, "0 10 * * 1", "UTC", 2880, "active",
                 last_monday + timedelta(days=7), created)
            )  # fmt: skip
            easy_mood, value_mood = rng.uniform(2.2, 4.6), rng.uniform(2.2, 4.6)
            for k in range(per_team):
                round_id = (t - 1) * per_team + k + 1
                when = last_monday - timedelta(days=7 * k)
                # One round in ten stays under the anonymity threshold (0–4 answers).
                if rng.random() < 0.1:
                    count = rng.randrange(0, self.min_responses)
                else:
                    count = rng.randrange(self.min_responses, len(members) + 1)
                ratings = []
                notes = []
                for person in sorted(rng.sample(members, count)):
                    easy = min(5, max(1, round(rng.gauss(easy_mood, 1.0))))
                    value = min(5, max(1, round(rng.gauss(value_mood, 1.0))))
                    ratings.append((easy, value))
                    if rng.random() < 0.2:
                        notes.append(f"note {round_id}-{person}")
                for person in members:
                    deliveries.append((round_id, person))
                # Every round of a team asks the same people: only the threshold can hide one.
                verdict = decide(
                    frozenset(members), count, [], min_responses=self.min_responses,
                    min_comment_responses=self.min_responses + 3,
                )  # fmt: skip
                rounds.append(
                    (round_id, t, 1, t, subject, when, when + timedelta(hours=48),
                     when + timedelta(hours=24), True, True, len(members), count,
                     json.dumps(tally(ratings)) if verdict.scores else None, verdict.scores,
                     verdict.comments, verdict.reason)
                )  # fmt: skip
                if verdict.comments:
                    comments += [(round_id, n, note) for n, note in enumerate(notes)]
        return {
            "pulse_schedules": schedules,
            "pulse_rounds": rounds,
            "pulse_deliveries": deliveries,
            "pulse_comments": comments,
        }


RECOGNITION_COLUMNS = [
    "id",
    "workspace_id",
    "giver_id",
    "reason",
    "channel_id",
    "source",
    "source_ref",
    "dedupe_key",
    "created_at",
    "giver_day",
    "revoked_at",
]
PERSON_COLUMNS = [
    "id",
    "workspace_id",
    "external_id",
    "display_name",
    "timezone",
    "is_bot",
    "is_platform_admin",
    "refreshed_at",
    "forgotten_at",
]
TEAM_COLUMNS = ["id", "workspace_id", "name", "lead_id", "channel_id", "created_at"]
PULSE_COLUMNS = {
    "pulse_schedules": [
        "id",
        "workspace_id",
        "owner_id",
        "subject",
        "audience",
        "cron",
        "timezone",
        "open_minutes",
        "status",
        "next_fire_at",
        "created_at",
    ],
    "pulse_rounds": [
        "id",
        "schedule_id",
        "workspace_id",
        "team_id",
        "subject",
        "scheduled_for",
        "closes_at",
        "remind_at",
        "reminded",
        "closed",
        "invited",
        "responded",
        "tally",
        "scores_shown",
        "comments_shown",
        "hidden_reason",
    ],
    "pulse_deliveries": ["round_id", "person_id"],
    "pulse_comments": ["round_id", "position", "text"],
}


def bench_config() -> Config:
    return load_config(ROOT / "app.yaml", env={"KUDOS_PULSE_SECRET": BENCH_SECRET})


# --- generation -------------------------------------------------------------------------------


async def create_schema(url: str) -> None:
    db = Database(url)
    await migrate.upgrade(db)
    await db.dispose()


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime(SQLITE_TIME)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _insert_sql(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def generate_sqlite(path: Path, org: Org) -> None:
    asyncio.run(create_schema(f"sqlite+aiosqlite:///{path}"))
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")  # 256 MiB while loading only
    rows = lambda it: ([_sqlite_value(v) for v in row] for row in it)  # noqa: E731
    with connection:
        connection.execute(
            "INSERT INTO workspaces (id, platform, external_id, name, created_at) "
            "VALUES (1, 'console', 'bench', 'bench', ?)",
            (NOW.strftime(SQLITE_TIME),),
        )
        connection.executemany(_insert_sql("people", PERSON_COLUMNS), rows(org.people_rows()))
        connection.executemany(_insert_sql("teams", TEAM_COLUMNS), rows(org.team_rows()))
        connection.executemany(
            "INSERT INTO team_members (team_id, person_id) VALUES (?, ?)", org.member_rows()
        )
    for kudos, recipients, tags in org.recognition_chunks():
        with connection:
            connection.executemany(_insert_sql("recognitions", RECOGNITION_COLUMNS), rows(kudos))
            connection.executemany(
                "INSERT INTO recognition_recipients (recognition_id, recipient_id, workspace_id, "
                "created_at) VALUES (?, ?, ?, ?)",
                rows(recipients),
            )
            connection.executemany(
                "INSERT INTO recognition_tags (recognition_id, tag) VALUES (?, ?)", tags
            )
    connection.close()
    add_pulses_sqlite(path, org)


def add_pulses_sqlite(path: Path, org: Org) -> bool:
    """Bring the file's schema to the current heads and add the pulse rows unless present
    (a file cached by an older generator has recognitions but no pulse tables)."""
    asyncio.run(create_schema(f"sqlite+aiosqlite:///{path}"))
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("DROP TABLE IF EXISTS bench_pulse_rounds")  # the old generator's
    if connection.execute("SELECT COUNT(*) FROM pulse_rounds").fetchone()[0]:
        connection.close()
        return False
    tables = org.pulse_tables()
    with connection:
        for table, records in tables.items():
            connection.executemany(
                _insert_sql(table, PULSE_COLUMNS[table]),
                ([_sqlite_value(v) for v in row] for row in records),
            )
    connection.execute("ANALYZE")
    connection.close()
    return True


async def generate_postgres(url: str, org: Org) -> None:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
    await admin.execute(f"CREATE DATABASE {PG_NAME}")
    await admin.close()
    await create_schema(url)
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    await connection.execute(
        "INSERT INTO workspaces (id, platform, external_id, name, created_at) "
        "VALUES (1, 'console', 'bench', 'bench', $1)",
        NOW.replace(tzinfo=None),
    )
    await connection.copy_records_to_table(
        "people", records=list(org.people_rows()), columns=PERSON_COLUMNS
    )
    await connection.copy_records_to_table(
        "teams", records=list(org.team_rows()), columns=TEAM_COLUMNS
    )
    await connection.copy_records_to_table(
        "team_members", records=list(org.member_rows()), columns=["team_id", "person_id"]
    )
    tables = org.pulse_tables()
    for table, records in tables.items():
        await connection.copy_records_to_table(table, records=records, columns=PULSE_COLUMNS[table])
    for kudos, recipients, tags in org.recognition_chunks():
        await connection.copy_records_to_table(
            "recognitions", records=kudos, columns=RECOGNITION_COLUMNS
        )
        await connection.copy_records_to_table(
            "recognition_recipients",
            records=recipients,
            columns=["recognition_id", "recipient_id", "workspace_id", "created_at"],
        )
        await connection.copy_records_to_table(
            "recognition_tags", records=tags, columns=["recognition_id", "tag"]
        )
    await connection.execute("ANALYZE")
    await connection.close()


async def drop_postgres() -> None:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f"DROP DATABASE IF EXISTS {PG_NAME} WITH (FORCE)")
    await admin.close()


# --- the floor: one statement for every team -----------------------------------------------------

FLOOR_SQL = """
WITH m AS (
    SELECT tm.team_id, tm.person_id FROM team_members tm
    JOIN teams t ON t.id = tm.team_id WHERE t.workspace_id = 1
),
rec AS (
    SELECT m.team_id, rr.recipient_id, rr.recognition_id, rr.created_at
    FROM m JOIN recognition_recipients rr ON rr.recipient_id = m.person_id
    JOIN recognitions r ON r.id = rr.recognition_id
    WHERE rr.created_at >= :last_start AND rr.created_at < :end_at AND r.revoked_at IS NULL
),
gave AS (
    SELECT m.team_id, r.created_at
    FROM m JOIN recognitions r ON r.giver_id = m.person_id
    JOIN recognition_recipients rr ON rr.recognition_id = r.id
    WHERE r.created_at >= :last_start AND r.created_at < :end_at AND r.revoked_at IS NULL
),
this_rec AS (SELECT * FROM rec WHERE created_at >= :this_start),
ranked AS (
    SELECT team_id, recognition_id, ROW_NUMBER() OVER (
        PARTITION BY team_id ORDER BY COUNT(*) DESC,
        (SELECT COUNT(*) FROM recognition_tags t WHERE t.recognition_id = this_rec.recognition_id)
        DESC, recognition_id DESC) AS rank
    FROM this_rec GROUP BY team_id, recognition_id
),
top AS (SELECT team_id, recognition_id, rank FROM ranked WHERE rank <= 3),
ranked_rounds AS (
    SELECT pr.id, pr.team_id, pr.subject, pr.invited, pr.closed, ROW_NUMBER() OVER (
        PARTITION BY pr.team_id ORDER BY pr.scheduled_for DESC) AS k
    FROM pulse_rounds pr JOIN teams t ON t.id = pr.team_id
    WHERE pr.workspace_id = 1 AND pr.scheduled_for < :end_at
),
shown AS (
    SELECT rr.id, rr.team_id, rr.subject, rr.invited, pr.responded AS n,
           CASE WHEN rr.closed AND pr.scores_shown THEN pr.tally END AS tally
    FROM ranked_rounds rr JOIN pulse_rounds pr ON pr.id = rr.id WHERE rr.k <= 8
)
SELECT 'received' AS kind, team_id, CAST(NULL AS VARCHAR) AS item,
       SUM(CASE WHEN created_at >= :this_start THEN 1 ELSE 0 END) AS a,
       SUM(CASE WHEN created_at < :this_start THEN 1 ELSE 0 END) AS b,
       CAST(NULL AS VARCHAR) AS label, CAST(NULL AS FLOAT) AS x, CAST(NULL AS FLOAT) AS y
FROM rec GROUP BY team_id
UNION ALL
SELECT 'given', team_id, NULL, SUM(CASE WHEN created_at >= :this_start THEN 1 ELSE 0 END),
       SUM(CASE WHEN created_at < :this_start THEN 1 ELSE 0 END), NULL, NULL, NULL
FROM gave GROUP BY team_id
UNION ALL
SELECT 'recognised', this_rec.team_id, p.external_id, COUNT(*), NULL, p.display_name, NULL, NULL
FROM this_rec JOIN people p ON p.id = this_rec.recipient_id
GROUP BY this_rec.team_id, p.external_id, p.display_name
UNION ALL
SELECT 'tag', d.team_id, t.tag, COUNT(*), NULL, NULL, NULL, NULL
FROM (SELECT DISTINCT team_id, recognition_id FROM this_rec) d
JOIN recognition_tags t ON t.recognition_id = d.recognition_id GROUP BY d.team_id, t.tag
UNION ALL
SELECT 'quiet', m.team_id, p.external_id, NULL, NULL, p.display_name, NULL, NULL
FROM m JOIN people p ON p.id = m.person_id
WHERE p.is_bot = FALSE AND p.forgotten_at IS NULL AND NOT EXISTS (
    SELECT 1 FROM recognition_recipients rr JOIN recognitions r ON r.id = rr.recognition_id
    WHERE rr.recipient_id = m.person_id AND rr.created_at >= :quiet_since
      AND rr.created_at < :end_at AND r.revoked_at IS NULL)
UNION ALL
SELECT 'members', team_id, NULL, COUNT(*), NULL, NULL, NULL, NULL FROM m GROUP BY team_id
UNION ALL
SELECT 'highlight', top.team_id, g.external_id, top.recognition_id, top.rank, r.reason, NULL, NULL
FROM top JOIN recognitions r ON r.id = top.recognition_id JOIN people g ON g.id = r.giver_id
UNION ALL
SELECT 'highlight_recipient', top.team_id, p.external_id, top.recognition_id, NULL,
       p.display_name, NULL, NULL
FROM top JOIN recognition_recipients rr ON rr.recognition_id = top.recognition_id
JOIN people p ON p.id = rr.recipient_id
UNION ALL
SELECT 'highlight_tag', top.team_id, t.tag, top.recognition_id, NULL, NULL, NULL, NULL
FROM top JOIN recognition_tags t ON t.recognition_id = top.recognition_id
UNION ALL
SELECT 'pulse', team_id, subject, n, invited, CAST(tally AS VARCHAR), NULL, NULL FROM shown
UNION ALL
SELECT 'pulse_favourable', team_id, subject, id, NULL, CAST(tally AS VARCHAR), NULL, NULL
FROM shown
"""


def _pulse_means(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A pulse row's tally (5×5 JSON, only for shown rounds) → its two shares or means."""
    kind, team, item, a, b, grid, _, _ = row
    if kind not in ("pulse", "pulse_favourable"):
        return row
    if grid is None:
        return (kind, team, item, a, b, None, None, None)
    t = Tally.of(json.loads(grid))
    if kind == "pulse":
        return (kind, team, item, a, b, None, t.easy_sum / t.responded, t.value_sum / t.responded)
    easy, value = t.easy_favourable / t.responded, t.value_favourable / t.responded
    return (kind, team, item, a, b, None, easy, value)


async def floor_query(db: Database, min_responses: int) -> list[tuple[Any, ...]]:
    window = window_ending(NOW, ZONE, 30)
    statement = text(FLOOR_SQL).bindparams(
        bindparam("last_start", window.last_start, type_=UTCDateTime),
        bindparam("this_start", window.this_start, type_=UTCDateTime),
        bindparam("end_at", window.end, type_=UTCDateTime),
        bindparam("quiet_since", window.quiet_since, type_=UTCDateTime),
    )
    async with db.read() as unit:
        session = unit.session
        return [_pulse_means(tuple(row)) for row in (await session.exec(statement)).all()]


# --- the measured child process -------------------------------------------------------------------


def make_service(db: Database) -> DigestService:
    config = bench_config()
    clock = ManualClock(NOW)
    people = People(db, clock, config)
    teams = TeamService(db, clock, config, people)
    service = DigestService(db, clock, config, people, teams, {})
    # As bot/pulses/install.py builds it and bot/app.py hands it to the digests.
    service.pulse_summaries = StoredPulseSummaries(db, config)
    return service


async def build_all(service: DigestService, teams: list[Team], batched: bool) -> tuple[int, str]:
    """(blocks rendered, fingerprint of every rendered message) for comparing backends."""
    batches = [teams] if batched else [[team] for team in teams]
    blocks = 0
    fingerprint = hashlib.sha256()
    for batch in batches:
        for digest in await service.build(batch, NOW, ZONE):
            message = render_digest(
                digest, service.config, ToPerson(user_id=digest.lead.external_id)
            )
            blocks += len(message.blocks)
            fingerprint.update(message.model_dump_json().encode())
    return blocks, fingerprint.hexdigest()[:16]


def rows_fingerprint(rows: list[tuple[Any, ...]]) -> str:
    """The floor's rows, independent of row order and of each driver's number types."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal | float):
            return repr(float(value)) if value != int(value) else int(value)
        return value

    lines = sorted(repr(tuple(plain(v) for v in row)) for row in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def peak_rss_mb() -> float:
    """This process's own RSS high-water mark. Linux's VmHWM belongs to the address space
    created at exec; `getrusage().ru_maxrss` would also carry the parent's RSS at fork time
    (the generator's), which says nothing about building digests."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


async def measure(url: str, repeats: int) -> dict[str, Any]:
    db = Database(url)
    service = make_service(db)
    async with db.read() as unit:
        session = unit.session
        teams = list((await session.exec(select(Team).order_by(col(Team.id)))).all())
    min_responses = service.config.pulses.min_responses
    await floor_query(db, min_responses)  # warm the caches the same way for both
    await build_all(service, teams, batched=True)

    async def timed(work: Callable[[], Awaitable[T]]) -> tuple[float, T]:
        started = time.perf_counter()
        result = await work()
        return time.perf_counter() - started, result

    floors, services, per_team = [], [], []
    for _ in range(repeats):
        seconds, rows = await timed(lambda: floor_query(db, min_responses))
        floors.append(seconds)
        seconds, (blocks, digests) = await timed(lambda: build_all(service, teams, batched=True))
        services.append(seconds)
    seconds, _ = await timed(lambda: build_all(service, teams, batched=False))
    per_team.append(seconds)
    await db.dispose()
    floor, built = statistics.median(floors), statistics.median(services)
    return {
        "teams": len(teams),
        "floor_rows": len(rows),
        "floor_fingerprint": rows_fingerprint(rows),
        "pulse_rows": sum(1 for row in rows if row[0] == "pulse"),
        "shown_pulse_rows": sum(1 for row in rows if row[0] == "pulse" and row[6] is not None),
        "digest_blocks": blocks,
        "digest_fingerprint": digests,
        "floor_s": round(floor, 3),
        "service_s": round(built, 3),
        "ratio": round(built / floor, 2),
        "per_team_s": round(per_team[0], 3),
        "peak_rss_mb": peak_rss_mb(),
    }


# --- driver ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="use PostgreSQL (digests_bench)")
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=200)
    parser.add_argument("--recognitions", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: keep digests_bench")
    parser.add_argument(
        "--reuse", action="store_true", help="PostgreSQL: measure a kept digests_bench again"
    )
    parser.add_argument("--measure-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(asyncio.run(measure(args.measure_only, args.repeats))))
        return 0

    min_responses = bench_config().pulses.min_responses
    org = Org(args.people, args.teams, args.recognitions, args.rounds, min_responses)
    started = time.perf_counter()
    if args.postgres:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_NAME}"
        if args.reuse:
            generated = "reused"
        else:
            asyncio.run(generate_postgres(url, org))
            generated = "generated"
    else:
        cache = ROOT / "bench" / ".cache"
        cache.mkdir(parents=True, exist_ok=True)
        path = cache / (
            f"digest_{args.people}p_{args.teams}t_{args.recognitions}r_{args.rounds}q.sqlite"
        )
        url = f"sqlite+aiosqlite:///{path}"
        if path.exists():
            generated = "cached + pulses added" if add_pulses_sqlite(path, org) else "cached"
        else:
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            generate_sqlite(partial, org)
            partial.rename(path)
            generated = "generated"
    generation_s = time.perf_counter() - started
    try:
        child = subprocess.run(
            [sys.executable, __file__, "--measure-only", url, "--repeats", str(args.repeats)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    except subprocess.CalledProcessError as error:
        print(error.stderr, file=sys.stderr)
        return 1
    finally:
        if args.postgres and not args.keep:
            asyncio.run(drop_postgres())
    result = json.loads(child.stdout.strip().splitlines()[-1])
    result.update(
        backend="postgresql" if args.postgres else "sqlite",
        data=generated,
        generation_s=round(generation_s, 1),
        load=os.getloadavg(),
    )
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
