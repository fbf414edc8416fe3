"""occurrences: partial index on feed_id where removed_at IS NULL (active count per refresh)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIVE = sa.text("removed_at IS NULL")


def upgrade():
    op.create_index(
        "ix_occurrences_active",
        "occurrences",
        ["feed_id"],
        unique=False,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade():
    op.drop_index("ix_occurrences_active", table_name="occurrences")
