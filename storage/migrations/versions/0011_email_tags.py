"""Erasure by email: people keep a keyed digest of the address their platform gave

`people.email_tag` is an HMAC of the lower-cased address under a key derived from the pulse
key, which the database never holds: `kudos-pulse forget alice@example.com` can find the
person, while a dump reveals no address. Filled as people are looked up again.

Revision ID: 0011_email_tags
Revises: 0010_home_charts
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_email_tags"
down_revision: str | Sequence[str] | None = "0010_home_charts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch rebuild of `people`, which every feature points at).
    op.add_column("people", sa.Column("email_tag", sa.String(length=64), nullable=True))
    op.create_index("ix_people_email_tag", "people", ["email_tag"])


def downgrade() -> None:
    op.drop_index("ix_people_email_tag", table_name="people")
    op.drop_column("people", "email_tag")
