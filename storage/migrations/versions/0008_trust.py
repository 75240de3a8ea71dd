"""outbox: in_doubt_since, the start of a try whose outcome was never learned

A send that failed after the platform may have received it (a timeout, a dropped connection,
a 5xx) leaves the row pending with this time set, so its next try looks for the message
before posting it again.

Revision ID: 0008_trust
Revises: 0006_grid_installs
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008_trust"
down_revision: str | Sequence[str] | None = "0006_grid_installs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("in_doubt_since", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("in_doubt_since")
