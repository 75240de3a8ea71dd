"""Digest at scale: every team's weekly digest for a large organisation, against the floor.

    python bench/digest_scale.py              # SQLite (generated file cached in bench/.cache)
    python bench/digest_scale.py --postgres   # PostgreSQL: creates and drops digests_bench

The organisation: 10,000 people in 200 teams of 50, 1,000,000 recognitions over two years
(1–3 recipients each, #easy/#value tags, 1 % revoked) and 2,000 pulse rounds (10 per team).
The pulse tables belong to the pulses feature (another branch), so the rounds live in a small
table this benchmark owns, `bench_pulse_rounds`, read through a `PulseSummaries`
implementation — the same protocol the real one implements.

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
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, text  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from bot.clock import ManualClock  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.digest_content import render_digest  # noqa: E402
from bot.digest_schedule import window_ending  # noqa: E402
from bot.digests import DigestService  # noqa: E402
from bot.messages import ToPerson  # noqa: E402
from bot.people import People  # noqa: E402
from bot.pulse_summary import RoundSummary  # noqa: E402
from bot.teams import TeamService  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Team  # noqa: E402
from storage.types import UTCDateTime  # noqa: E402

NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # a Friday: every team's digest is due
ZONE = ZoneInfo("UTC")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_NAME = "digests_bench"
CHUNK = 50_000
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite

PULSE_TABLE = """
CREATE TABLE IF NOT EXISTS bench_pulse_rounds (
    id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL, subject VARCHAR(100) NOT NULL,
    scheduled_for TIMESTAMP NOT NULL, invited INTEGER NOT NULL, responded INTEGER NOT NULL,
    easy_mean FLOAT, value_mean FLOAT, easy_favourable FLOAT, value_favourable FLOAT)
"""
PULSE_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_bench_pulse_team ON bench_pulse_rounds (team_id, scheduled_for)"
)


# --- the organisation ---------------------------------------------------------------------------


class Org:
    def __init__(self, people: int, teams: int, recognitions: int, rounds: int) -> None:
        self.people, self.teams, self.recognitions, self.rounds = (
            people,
            teams,
            recognitions,
            rounds,
        )
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
            first = (t - 1) * self.team_size + 1
            for person in range(first, first + self.team_size):
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

    def pulse_rows(self) -> Iterator[tuple[Any, ...]]:
        rng = random.Random(7)
        per_team = self.rounds // self.teams
        for t in range(1, self.teams + 1):
            for k in range(per_team):
                when = NOW - timedelta(days=3 + 7 * k * 70 // per_team)
                invited = self.team_size
                responded = rng.randrange(2, invited + 1)
                shown = responded >= 5
                easy, value = rng.uniform(1.5, 5), rng.uniform(1.5, 5)
                yield (
                    t * 1000 + k,
                    t,
                    f"pulse {k} of team {t}",
                    when.replace(tzinfo=None),
                    invited,
                    responded,
                    easy if shown else None,
                    value if shown else None,
                    rng.random() if shown else None,
                    rng.random() if shown else None,
                )


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
PULSE_COLUMNS = [
    "id",
    "team_id",
    "subject",
    "scheduled_for",
    "invited",
    "responded",
    "easy_mean",
    "value_mean",
    "easy_favourable",
    "value_favourable",
]


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
        connection.execute(PULSE_TABLE)
        connection.execute(PULSE_INDEX)
        connection.executemany(
            _insert_sql("bench_pulse_rounds", PULSE_COLUMNS), rows(org.pulse_rows())
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
    connection.execute("ANALYZE")
    connection.close()


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
    await connection.execute(PULSE_TABLE)
    await connection.execute(PULSE_INDEX)
    await connection.copy_records_to_table(
        "bench_pulse_rounds", records=list(org.pulse_rows()), columns=PULSE_COLUMNS
    )
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


# --- the pulses collaborator the benchmark owns ------------------------------------------------


class BenchPulses:
    """`PulseSummaries` over bench_pulse_rounds: the team's last rounds before `until`."""

    def __init__(self, db: Database, min_responses: int) -> None:
        self.db = db
        self.min_responses = min_responses
        self.statement = text(
            "SELECT id, subject, scheduled_for, invited, responded, easy_mean, value_mean, "
            "easy_favourable, value_favourable FROM bench_pulse_rounds "
            "WHERE team_id = :team_id AND scheduled_for < :until "
            "ORDER BY scheduled_for DESC LIMIT :limit"
        ).bindparams(bindparam("until", type_=UTCDateTime))
        self.when = UTCDateTime()

    async def for_team(
        self, workspace_id: int, team_id: int, *, until: datetime, limit: int = 8
    ) -> list[RoundSummary]:
        async with self.db.read() as session:
            found = (
                await session.exec(
                    self.statement,
                    params={"team_id": team_id, "until": until, "limit": limit},
                )
            ).all()
        summaries = []
        for row in reversed(found):
            scheduled = row[2] if isinstance(row[2], datetime) else datetime.fromisoformat(row[2])
            scheduled = scheduled.replace(tzinfo=UTC)
            shown = row[4] >= self.min_responses
            summaries.append(
                RoundSummary(
                    round_id=row[0],
                    schedule_id=team_id,
                    subject=row[1],
                    scheduled_for=scheduled,
                    closes_at=scheduled + timedelta(hours=48),
                    closed=True,
                    invited=row[3],
                    responded=row[4],
                    shown=shown,
                    easy_mean=row[5],
                    value_mean=row[6],
                    easy_favourable=row[7],
                    value_favourable=row[8],
                )
            )
        return summaries


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
rounds AS (
    SELECT b.*, ROW_NUMBER() OVER (PARTITION BY team_id ORDER BY scheduled_for DESC) AS k
    FROM bench_pulse_rounds b WHERE scheduled_for < :end_at
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
SELECT 'pulse', team_id, subject, responded, invited, NULL, easy_mean, value_mean
FROM rounds WHERE k <= 8
"""


async def floor_query(db: Database) -> int:
    window = window_ending(NOW, ZONE, 30)
    statement = text(FLOOR_SQL).bindparams(
        bindparam("last_start", window.last_start, type_=UTCDateTime),
        bindparam("this_start", window.this_start, type_=UTCDateTime),
        bindparam("end_at", window.end, type_=UTCDateTime),
        bindparam("quiet_since", window.quiet_since, type_=UTCDateTime),
    )
    async with db.read() as session:
        return len((await session.exec(statement)).all())


# --- the measured child process -------------------------------------------------------------------


def make_service(db: Database) -> DigestService:
    config = load_config(ROOT / "app.yaml", env={})
    clock = ManualClock(NOW)
    people = People(db, clock, config)
    teams = TeamService(db, clock, config, people)
    service = DigestService(db, clock, config, people, teams, {})
    service.pulse_summaries = BenchPulses(db, config.pulses.min_responses)
    return service


async def build_all(service: DigestService, teams: list[Team], batched: bool) -> int:
    batches = [teams] if batched else [[team] for team in teams]
    blocks = 0
    for batch in batches:
        for digest in await service.build(batch, NOW, ZONE):
            message = render_digest(
                digest, service.config, ToPerson(user_id=digest.lead.external_id)
            )
            blocks += len(message.blocks)
    return blocks


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
    async with db.read() as session:
        teams = list((await session.exec(select(Team).order_by(col(Team.id)))).all())
    await floor_query(db)  # warm the caches the same way for both
    await build_all(service, teams, batched=True)

    async def timed(work: Callable[[], Awaitable[int]]) -> tuple[float, int]:
        started = time.perf_counter()
        result = await work()
        return time.perf_counter() - started, result

    floors, services, per_team = [], [], []
    for _ in range(repeats):
        seconds, rows = await timed(lambda: floor_query(db))
        floors.append(seconds)
        seconds, blocks = await timed(lambda: build_all(service, teams, batched=True))
        services.append(seconds)
    seconds, _ = await timed(lambda: build_all(service, teams, batched=False))
    per_team.append(seconds)
    await db.dispose()
    floor, built = statistics.median(floors), statistics.median(services)
    return {
        "teams": len(teams),
        "floor_rows": rows,
        "digest_blocks": blocks,
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
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="PostgreSQL: keep digests_bench")
    parser.add_argument(
        "--reuse", action="store_true", help="PostgreSQL: measure a kept digests_bench again"
    )
    parser.add_argument("--measure-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(asyncio.run(measure(args.measure_only, args.repeats))))
        return 0

    org = Org(args.people, args.teams, args.recognitions, args.rounds)
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
            generated = "cached"
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
