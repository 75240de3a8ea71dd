"""sealed answers: no answer row, no "answered" flag, no key in the database; one head

Joins the three feature branches (0002_pulses, 0003_digests, 0004_inbox) into one head, then:
- answers of every round become a per-round tally (a 5×5 count of EASY/VALUE pairs) and
  comments in a random order; the per-answer table is dropped (its files go with it);
- rounds still open are closed at the upgrade (their answers are already tallied, and their
  answerers could not be told apart any more to let them change an answer);
- pulse_deliveries is rebuilt without `answered` (a dropped column's bytes would stay in the
  old rows on PostgreSQL), in person order, so no row keeps the write order of answers;
- the pulse key that earlier versions kept in app_settings is deleted: it now lives outside
  the database (KUDOS_PULSE_SECRET or the key file).
Downgrading cannot bring answers back; it restores empty tables of the old shape.

Revision ID: 0005_sealed_answers
Revises: 0002_pulses, 0003_digests, 0004_inbox
"""

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

import storage.types  # noqa: F401

revision: str = "0005_sealed_answers"
down_revision: str | Sequence[str] | None = ("0002_pulses", "0003_digests", "0004_inbox")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("pulse_rounds") as batch:
        batch.add_column(sa.Column("responded", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("tally", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("scores_shown", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("comments_shown", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column("hidden_reason", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
        )
    op.create_table(
        "pulse_ballots",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_rounds.id"]),
        sa.PrimaryKeyConstraint("round_id", "bucket"),
    )
    comments_table = op.create_table(
        "pulse_comments",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_rounds.id"]),
        sa.PrimaryKeyConstraint("round_id", "position"),
    )

    # -- tally what was answered, then forget the answers -------------------------------------
    tallies: dict[int, list[list[int]]] = defaultdict(lambda: [[0] * 5 for _ in range(5)])
    comments: dict[int, list[str]] = defaultdict(list)
    answers = bind.execute(sa.text("SELECT round_id, easy, value, comment FROM pulse_responses"))
    for round_id, easy, value, comment in answers:
        tallies[round_id][easy - 1][value - 1] += 1
        if comment:
            comments[round_id].append(comment)
    for round_id, tally in tallies.items():
        bind.execute(
            sa.text("UPDATE pulse_rounds SET tally = :tally, responded = :n WHERE id = :id"),
            {"tally": json.dumps(tally), "n": sum(map(sum, tally)), "id": round_id},
        )
    shuffle = random.SystemRandom().shuffle
    rows = []
    for round_id, texts in comments.items():
        shuffle(texts)
        rows += [{"round_id": round_id, "position": i, "text": t} for i, t in enumerate(texts)]
    if rows:
        op.bulk_insert(comments_table, rows)
    bind.execute(
        sa.text("UPDATE pulse_rounds SET closes_at = :now WHERE closed = :no AND closes_at > :now"),
        {"now": datetime.now(UTC).replace(tzinfo=None), "no": False},
    )
    op.drop_table("pulse_responses")
    bind.execute(sa.text("DELETE FROM app_settings WHERE key = 'pulses.secret'"))

    # -- rebuild deliveries without `answered` ------------------------------------------------
    op.create_table(
        "pulse_deliveries_new",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"]),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_rounds.id"]),
        sa.PrimaryKeyConstraint("round_id", "person_id"),
    )
    bind.execute(
        sa.text(
            "INSERT INTO pulse_deliveries_new (round_id, person_id) "
            "SELECT round_id, person_id FROM pulse_deliveries ORDER BY round_id, person_id"
        )
    )
    op.drop_table("pulse_deliveries")
    op.rename_table("pulse_deliveries_new", "pulse_deliveries")
    if bind.dialect.name == "postgresql":
        # The constraint names follow the table's original name, as a fresh install has them.
        op.execute(
            "ALTER TABLE pulse_deliveries "
            "RENAME CONSTRAINT pulse_deliveries_new_pkey TO pulse_deliveries_pkey"
        )
    op.create_index("ix_pulse_deliveries_person_id", "pulse_deliveries", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_pulse_deliveries_person_id", table_name="pulse_deliveries")
    with op.batch_alter_table("pulse_deliveries") as batch:
        batch.add_column(
            sa.Column("answered", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_pulse_deliveries_person_id", "pulse_deliveries", ["person_id"])
    op.create_table(
        "pulse_responses",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("easy", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["round_id"], ["pulse_rounds.id"]),
        sa.PrimaryKeyConstraint("round_id", "respondent"),
    )
    op.drop_table("pulse_comments")
    op.drop_table("pulse_ballots")
    with op.batch_alter_table("pulse_rounds") as batch:
        for column in ("hidden_reason", "comments_shown", "scores_shown", "tally", "responded"):
            batch.drop_column(column)
