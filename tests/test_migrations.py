"""The schema comes from Alembic migrations only, and they match the models."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT


def test_migrated_schema_matches_the_models(app):
    """No pending autogenerate diff, on every backend the suite runs on."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diff = compare_metadata(context, db.metadata)
        assert context.get_current_revision() is not None

    assert diff == [], "models and migrations disagree; run `flask db migrate`:\n" + "\n".join(
        map(str, diff)
    )


def test_migrations_are_at_a_single_head():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_the_app_never_creates_tables_itself():
    offenders = [
        str(path.relative_to(ROOT))
        for path in Path(ROOT / "app").rglob("*.py")
        if re.search(r"\bcreate_all\s*\(", path.read_text())
    ]
    assert offenders == []


def test_the_comparison_would_notice_a_model_change(app):
    """Guards the test above against comparing nothing with nothing."""
    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.extensions import db

    changed = sa.MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["users"].append_column(sa.Column("nickname", sa.String(40)))

    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), changed)

    assert [d[0] for d in diff] == ["add_column"]


def test_dropping_the_session_version_keeps_every_users_data(tmp_path, monkeypatch):
    """0005 drops a column of ``users``: on SQLite, batch mode would copy the
    table and drop the old one, and with foreign keys on that DROP cascades
    into every child table. Data written at 0004 must survive, both ways."""
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("TIMEPULSE_INSTANCE", str(tmp_path / "instance"))
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    migrations = str(ROOT / "migrations")
    projects = sa.text("SELECT name FROM projects")
    with app.app_context():
        upgrade(directory=migrations, revision="0004")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (id, email, password_hash, timezone, week_start,"
                    " rounding_minutes, rounding_mode, session_version, created_at)"
                    " VALUES (1, 'ada@example.com', 'x', 'UTC', 0, 0, 'nearest', 3, '2026-01-01')"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO projects (user_id, name, colour, billable_default, archived,"
                    " created_at) VALUES (1, 'Apollo', '#4f6df5', 0, 0, '2026-01-01')"
                )
            )

        upgrade(directory=migrations)
        with db.engine.connect() as conn:
            assert conn.execute(projects).scalars().all() == ["Apollo"]
            assert "session_version" not in {
                c["name"] for c in sa.inspect(conn).get_columns("users")
            }

        downgrade(directory=migrations, revision="0004")
        with db.engine.connect() as conn:
            assert conn.execute(projects).scalars().all() == ["Apollo"]
        db.engine.dispose()


def test_every_downgrade_and_upgrade_keeps_the_data(tmp_path, monkeypatch):
    """0004 and 0005 change ``feeds`` and ``users``, the parents of most other tables:
    on SQLite a migration that copied either table and dropped the old one would
    cascade into occurrences, sync runs, entries and rules. Rows written at the head
    survive going down to the first revision and back up."""
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.extensions import db
    from app.models import Feed, Occurrence, Project, Rule, SyncRun, TimeEntry, User

    monkeypatch.setenv("TIMEPULSE_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    migrations = str(ROOT / "migrations")
    tables = ("users", "projects", "rules", "feeds", "occurrences", "sync_runs", "time_entries")
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)

    def counts() -> dict[str, int]:
        with db.engine.connect() as conn:
            return {t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in tables}

    with app.app_context():
        upgrade(directory=migrations)
        user = User(email="ada@example.com", password_hash="x")
        db.session.add(user)
        db.session.flush()
        project = Project(user_id=user.id, name="Apollo")
        feed = Feed(user_id=user.id, name="Work", url_fingerprint="f" * 64, last_duration_ms=40)
        db.session.add_all([project, feed])
        db.session.flush()
        occurrence = Occurrence(
            feed_id=feed.id, user_id=user.id, uid="a@x", start=start,
            end=start + timedelta(hours=1), content_hash="h",
        )  # fmt: skip
        db.session.add_all(
            [
                occurrence,
                Rule(user_id=user.id, field="subject", operator="contains", pattern="x",
                     project_id=project.id),
                SyncRun(feed_id=feed.id, outcome="ok"),
            ]
        )  # fmt: skip
        db.session.flush()
        db.session.add(
            TimeEntry(user_id=user.id, project_id=project.id, occurrence_id=occurrence.id,
                      start=start, end=start + timedelta(hours=1), description="Standup")
        )  # fmt: skip
        db.session.commit()
        db.session.remove()
        written = counts()
        assert all(written.values()), written

        downgrade(directory=migrations, revision="0001")
        assert counts() == written
        upgrade(directory=migrations)
        assert counts() == written
        db.engine.dispose()
