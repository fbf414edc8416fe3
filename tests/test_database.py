"""PostgreSQL: read-only requests end with COMMIT, so psycopg keeps its prepared statements."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.models import Project


@pytest.fixture
def postgres(app: Flask) -> Flask:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("prepared statements are psycopg's; SQLite has its own statement cache")
    return app


def test_pages_keep_their_prepared_statements(
    postgres: Flask, client: FlaskClient, user_id: int, make_project
) -> None:  # type: ignore[no-untyped-def]
    make_project(user_id, "Alpha")
    for _ in range(8):  # psycopg prepares a statement on its fifth use
        assert client.get("/projects/").status_code == 200
    # One thread, one pooled connection: this reads the connection the pages used.
    with postgres.app_context():
        names = db.session.scalars(sa.text("SELECT statement FROM pg_prepared_statements")).all()
        db.session.commit()
    assert any("projects" in name for name in names), names


def test_a_context_that_wrote_is_rolled_back_not_committed(postgres: Flask, user_id: int) -> None:
    with postgres.app_context():
        db.session.execute(sa.insert(Project).values(user_id=user_id, name="Left behind"))
        # No commit: the context ends as a view that forgot (or refused) to commit.
    with postgres.app_context():
        names = db.session.scalars(sa.select(Project.name)).all()
    assert "Left behind" not in names


def test_a_view_with_pending_objects_is_not_committed(postgres: Flask, user_id: int) -> None:
    with postgres.app_context():
        db.session.add(Project(user_id=user_id, name="Pending"))
    with postgres.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 0
