"""per-person settings under one prefix: `kudos.notify-off:<id>` becomes
`person:<id>:kudos.notify-off`, so erasing a person finds every setting of theirs

Revision ID: 0010_home_charts
Revises: 0009_charts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_home_charts"
down_revision: str | Sequence[str] | None = "0009_charts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "kudos.notify-off:"
NEW = ":kudos.notify-off"


def upgrade() -> None:
    # substr/length/|| mean the same on SQLite and PostgreSQL.
    op.get_bind().execute(
        sa.text(
            "UPDATE app_settings SET key = 'person:' || substr(key, :start) || :new "
            "WHERE key LIKE :old"
        ),
        {"start": len(OLD) + 1, "new": NEW, "old": OLD + "%"},
    )


def downgrade() -> None:
    op.get_bind().execute(
        sa.text(
            "UPDATE app_settings SET key = :old || substr(key, 8, length(key) - 7 - :tail) "
            "WHERE key LIKE :pattern"
        ),
        {"old": OLD, "tail": len(NEW), "pattern": "person:%" + NEW},
    )
