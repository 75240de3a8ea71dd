"""Enterprise Grid: people of another organisation (Slack Connect) are marked

`people.is_external` marks a person the platform's directory describes as belonging to
another organisation than the workspace (or Grid org) the row is kept in; such people are
neither thanked nor counted. Stored Slack tokens are sealed by the bot at start-up, with a key
derived from the pulse key, which a migration does not have.

Revision ID: 0006_grid_installs
Revises: 0005_sealed_answers
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_grid_installs"
down_revision: str | Sequence[str] | None = "0005_sealed_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite's batch mode would rebuild `people`, which
    # every feature's tables point at.
    op.add_column(
        "people",
        sa.Column("is_external", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("people", "is_external")  # SQLite 3.35+ drops a column in place
