"""time entries: index (occurrence_id, id) for "latest entry of an impulse"

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_time_entries_occurrence_id")
        batch_op.create_index(
            "ix_time_entries_occurrence_latest", ["occurrence_id", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("time_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_time_entries_occurrence_latest")
        batch_op.create_index("ix_time_entries_occurrence_id", ["occurrence_id"], unique=False)
