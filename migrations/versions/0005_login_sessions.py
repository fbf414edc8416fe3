"""login_sessions: logout ends the session on the server; users.session_version goes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

Sessions signed in before this revision carry no login-session token, so
every user logs in once more after the upgrade.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_login_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_sessions_token_hash")),
    )
    op.create_index(op.f("ix_login_sessions_user_id"), "login_sessions", ["user_id"])
    op.create_index(op.f("ix_login_sessions_created_at"), "login_sessions", ["created_at"])
    # A plain ALTER TABLE (SQLite >= 3.35 has DROP COLUMN), not batch mode:
    # batch copies users into a new table and drops the old one, and with
    # foreign_keys=ON that DROP cascades into every user's projects, feeds
    # and entries.
    op.drop_column("users", "session_version")


def downgrade():
    # Existing rows need a value; 0 is what every user started with.
    op.add_column(
        "users",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.drop_index(op.f("ix_login_sessions_created_at"), table_name="login_sessions")
    op.drop_index(op.f("ix_login_sessions_user_id"), table_name="login_sessions")
    op.drop_table("login_sessions")
