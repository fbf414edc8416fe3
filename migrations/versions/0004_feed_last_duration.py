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


# Plain ALTER TABLE (SQLite >= 3.35 has DROP COLUMN), not batch mode: batch
# copies feeds into a new table and drops the old one, and with foreign_keys=ON
# that DROP cascades into every feed's occurrences and sync runs.


def upgrade():
    op.add_column("feeds", sa.Column("last_duration_ms", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("feeds", "last_duration_ms")
