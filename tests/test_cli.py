"""The ``timepulse`` console script: Flask's CLI bound to the factory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from tests.conftest import PASSWORD, ROOT

TIMEPULSE = Path(sys.executable).parent / "timepulse"


def _users(app):
    from app.extensions import db
    from app.models import User

    with app.app_context():
        return [(u.email, u.password_hash) for u in db.session.scalars(sa.select(User))]


def test_users_create(app, runner):
    from app.cli import cli

    result = runner.invoke(cli, ["users", "create", "Ada@Example.com", "--password", PASSWORD])

    assert result.exit_code == 0, result.output
    assert "Created ada@example.com." in result.output
    [(email, password_hash)] = _users(app)
    assert email == "ada@example.com" and password_hash.startswith("$argon2id$")


def test_users_create_prompts_for_the_password_twice(app, runner):
    from app.cli import cli

    result = runner.invoke(cli, ["users", "create", "ada@example.com"], input=f"{PASSWORD}\n" * 2)

    assert result.exit_code == 0, result.output
    assert len(_users(app)) == 1


def test_users_create_refuses_a_taken_address_and_a_weak_password(app, runner, make_user):
    from app.cli import cli

    make_user("ada@example.com")
    taken = runner.invoke(cli, ["users", "create", "ADA@example.com", "--password", PASSWORD])
    weak = runner.invoke(cli, ["users", "create", "bob@example.com", "--password", "short"])

    assert taken.exit_code == 2
    assert "Error: An account with that e-mail address exists already." in taken.output
    assert weak.exit_code == 2
    assert "Use at least 10 characters" in weak.output
    assert [email for email, _ in _users(app)] == ["ada@example.com"]


def _timepulse(*args: str, instance: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env["TIMEPULSE_INSTANCE"] = str(instance)
    return subprocess.run(
        [str(TIMEPULSE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_console_script_lists_its_commands(tmp_path):
    result = _timepulse("--help", instance=tmp_path)

    assert result.returncode == 0, result.stderr
    for command in ("run", "db", "users"):
        assert f"  {command} " in result.stdout


def test_db_upgrade_and_users_create_on_a_fresh_instance(tmp_path):
    upgraded = _timepulse("db", "upgrade", instance=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr

    created = _timepulse(
        "users", "create", "ada@example.com", "--password", PASSWORD, instance=tmp_path
    )
    assert created.returncode == 0, created.stderr

    with sqlite3.connect(tmp_path / "timepulse.db") as conn:
        assert conn.execute("SELECT email FROM users").fetchall() == [("ada@example.com",)]
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()
