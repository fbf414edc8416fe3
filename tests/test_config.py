"""Configuration from the environment, with safe defaults."""

from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa

from app.config import load_config


def test_secret_key_is_generated_once_into_the_instance_folder(tmp_path):
    first = load_config(str(tmp_path), env={})["SECRET_KEY"]
    key_file = tmp_path / "secret_key"

    assert len(first) >= 32
    assert key_file.read_text().strip() == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_config(str(tmp_path), env={})["SECRET_KEY"] == first
    assert load_config(str(tmp_path / "other"), env={})["SECRET_KEY"] != first
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["secret_key"]


def test_secret_key_from_the_environment_wins_and_writes_nothing(tmp_path):
    config = load_config(str(tmp_path), env={"SECRET_KEY": "from-the-environment"})
    assert config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_no_secret_key_is_a_constant_in_the_code():
    import re
    from pathlib import Path

    import app

    literal = re.compile(r"""SECRET_KEY["']?\s*[:=]\s*[rbf]?["']""")
    offenders = [
        str(path)
        for path in Path(app.__file__).parent.rglob("*.py")
        if literal.search(path.read_text())
    ]
    assert offenders == []


def test_database_url_defaults_to_a_sqlite_file_in_the_instance_folder(tmp_path):
    url = load_config(str(tmp_path), env={})["SQLALCHEMY_DATABASE_URI"]
    assert url == f"sqlite:///{tmp_path / 'timepulse.db'}"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db/tp", "postgresql+psycopg://u:p@db/tp"),
        ("postgresql://u:p@db/tp", "postgresql+psycopg://u:p@db/tp"),
        ("postgresql+psycopg://u@db/tp", "postgresql+psycopg://u@db/tp"),
        ("sqlite:////srv/tp.db", "sqlite:////srv/tp.db"),
    ],
)
def test_database_url_is_normalised_for_psycopg3(tmp_path, given, expected):
    config = load_config(str(tmp_path), env={"DATABASE_URL": given})
    assert config["SQLALCHEMY_DATABASE_URI"] == expected


def test_timepulse_settings_come_from_the_environment(tmp_path):
    config = load_config(
        str(tmp_path),
        env={
            "TIMEPULSE_LOGIN_ATTEMPTS": "7",
            "TIMEPULSE_LOGIN_WINDOW": "60",
            "TIMEPULSE_SCHEDULER": "0",
            "TIMEPULSE_REDIS_URL": "redis://127.0.0.1:6379/1",
        },
    )
    assert config["TIMEPULSE_LOGIN_ATTEMPTS"] == 7
    assert config["TIMEPULSE_LOGIN_WINDOW"] == 60
    assert config["TIMEPULSE_SCHEDULER"] is False
    assert config["TIMEPULSE_REDIS_URL"] == "redis://127.0.0.1:6379/1"


def test_the_app_uses_the_instance_folder_from_the_environment(tmp_path, monkeypatch):
    from app import create_app

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("TIMEPULSE_INSTANCE", str(tmp_path / "inst"))
    application = create_app()

    assert application.instance_path == str(tmp_path / "inst")
    assert application.config["SQLALCHEMY_DATABASE_URI"].endswith("/inst/timepulse.db")
    assert (tmp_path / "inst" / "secret_key").exists()
    assert application.template_folder.endswith("templates")
    assert application.static_folder.endswith("static")


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path, monkeypatch):
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("TIMEPULSE_INSTANCE", str(tmp_path))
    application = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}"})
    with application.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        db.engine.dispose()
