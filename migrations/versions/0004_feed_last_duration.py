"""feeds: last_duration_ms (claims hand out the slowest feeds first)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("last_duration_ms", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("last_duration_ms")
