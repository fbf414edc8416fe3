"""Shared fixtures: the app on every configured database, clients, factories.

Every test that touches the database runs on SQLite and — when
``TEST_DATABASE_URL`` is set (CI sets it) — again on PostgreSQL: the
``database_url`` fixture is parametrised, the tests are not copied.
The schema always comes from the Alembic migrations, never ``create_all``.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

pytest_plugins = ["tests.support.feed_server"]

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "correct horse battery staple"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--ics-corpus", default=None, help="path to the shared ICS corpus")


def _pg_admin_url() -> str:
    url = os.environ["TEST_DATABASE_URL"]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    from app import create_app

    os.environ["TIMEPULSE_INSTANCE"] = str(instance)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        from app.extensions import db

        db.engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database per backend, made once per test session."""
    instance = tmp_path_factory.mktemp("instance")
    if request.param == "sqlite":
        template = tmp_path_factory.mktemp("db") / "template.db"
        _migrate(f"sqlite:///{template}", instance)
        yield f"template:{template}"
        return
    admin = sa.create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"timepulse_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    _migrate(url, instance)
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _fresh_url(database_url: str, tmp_path: Path) -> str:
    if database_url.startswith("template:"):
        copy = tmp_path / "timepulse.db"
        shutil.copyfile(database_url.removeprefix("template:"), copy)
        return f"sqlite:///{copy}"
    return database_url


def _truncate_all(app: Flask) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change the configuration."""
    return {}


@pytest.fixture
def app(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_config: dict[str, Any]
) -> Iterator[Flask]:
    from app import create_app

    monkeypatch.setenv("TIMEPULSE_INSTANCE", str(tmp_path / "instance"))
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": _fresh_url(database_url, tmp_path),
        "WTF_CSRF_ENABLED": False,
        "TIMEPULSE_SCHEDULER": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "SERVER_NAME": None,
    }
    config.update(app_config)
    application = create_app(config)
    yield application
    _truncate_all(application)


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """The SQLAlchemy handle inside an app context."""
    from app.extensions import db as handle

    with app.app_context():
        yield handle
        handle.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@functools.cache
def _password_hash() -> str:
    # argon2id is slow on purpose; hashing the shared test password once
    # saves half a second per test that makes a user.
    from app.auth.passwords import hash_password

    return hash_password(PASSWORD)


@pytest.fixture
def make_user(app: Flask) -> Any:
    """Create a user directly in the database; returns its id."""

    def make(email: str = "ada@example.com", timezone: str = "Europe/Prague", **extra: Any) -> int:
        from app.extensions import db
        from app.models import User

        with app.app_context():
            user = User(
                email=email.casefold(),
                password_hash=_password_hash(),
                timezone=timezone,
                **extra,
            )
            db.session.add(user)
            db.session.commit()
            return user.id

    return make


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def signup(self, email: str = "ada@example.com", password: str = PASSWORD) -> Any:
        return self.client.post("/signup", data={"email": email, "password": password})

    def login(self, email: str = "ada@example.com", password: str = PASSWORD) -> Any:
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self) -> Any:
        return self.client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def user_id(make_user: Any, auth: AuthActions) -> int:
    """A user in Europe/Prague, logged in through the real login form."""
    uid = make_user()
    response = auth.login()
    assert response.status_code == 302, response.data
    return uid


@pytest.fixture
def make_project(app: Flask) -> Any:
    def make(user_id: int, name: str = "Apollo", **extra: Any) -> int:
        from app.extensions import db
        from app.models import Project

        with app.app_context():
            project = Project(user_id=user_id, name=name, **extra)
            db.session.add(project)
            db.session.commit()
            return project.id

    return make


@pytest.fixture
def make_entry(app: Flask) -> Any:
    def make(user_id: int, start: datetime, end: datetime | None, **extra: Any) -> int:
        from app.extensions import db
        from app.models import TimeEntry

        with app.app_context():
            entry = TimeEntry(user_id=user_id, start=start, end=end, **extra)
            db.session.add(entry)
            db.session.commit()
            return entry.id

    return make


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
