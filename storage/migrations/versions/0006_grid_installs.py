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
    with op.batch_alter_table("people") as batch:
        batch.add_column(
            sa.Column("is_external", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("is_external")
