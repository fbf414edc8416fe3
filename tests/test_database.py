"""PostgreSQL: read-only requests end with COMMIT, so psycopg keeps its prepared statements."""

from __future__ import annotations

import time

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


def _end_other_sessions(app: Flask) -> int:
    """What a database restart does to the pool: every session ended by the server."""
    with app.app_context():
        admin = sa.create_engine(db.engine.url, poolclass=sa.NullPool)
    ended = sa.text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    left = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    with admin.connect() as connection:
        count = int(connection.execute(ended).scalar_one())
        for _ in range(100):  # pg_terminate_backend only signals; wait until they are gone
            if connection.execute(left).scalar_one() == 0:
                break
            time.sleep(0.05)
    admin.dispose()
    return count


def test_connections_the_server_ended_are_replaced_before_use(
    postgres: Flask, client: FlaskClient
) -> None:
    # No pre-ping on every checkout (app.database): a pooled connection whose
    # session the server ended is noticed without a round trip, and replaced.
    assert client.get("/healthz").get_json()["database"] == "ok"
    assert _end_other_sessions(postgres) >= 1
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.get_json()["database"] == "ok"


def test_a_connection_idle_too_long_is_pinged_and_replaced_when_silent(
    postgres: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A connection a firewall dropped silently has nothing to read; only a
    # ping finds out. A dead network cannot be made here, so the ping fails.
    import psycopg

    from app import database

    assert client.get("/healthz").get_json()["database"] == "ok"
    with postgres.app_context():
        dialect = db.engine.dialect
    pings: list[object] = []

    def silent(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        raise psycopg.OperationalError("no answer")

    monkeypatch.setattr(dialect, "do_ping", silent)
    assert client.get("/healthz").get_json()["database"] == "ok"
    assert pings == []  # used a moment ago: no round trip
    monkeypatch.setattr(database, "IDLE_PING_SECONDS", 0.0)
    assert client.get("/healthz").get_json()["database"] == "ok"
    assert len(pings) == 1  # pinged once; the connection that served is a new one
