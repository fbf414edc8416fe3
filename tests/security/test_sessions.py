"""Sessions: cookie flags, a fresh session at login, nothing left at logout
(not even in a copy of the cookie), and a password change ends every other
session."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.security import tally

NEW_PASSWORD = "a much longer passphrase 2026"
SESSION_KEYS = {"_user_id", "_fresh", "_id"}


def _set_cookie(response: Any, name: str = "session") -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert cookies, f"no {name} cookie set"
    return cookies[-1]


def _session(client: Any) -> dict[str, Any]:
    with client.session_transaction() as session:
        return dict(session)


def _device(app: Any) -> Any:
    """Another browser, logged in as Ada."""
    device = app.test_client()
    response = device.post("/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    return device


def _replay(app: Any, cookie: str, what: str | None = None) -> Any:
    """Answer to another browser presenting a copy of a session cookie.

    ``what`` names the bad input for the tally, when the copy should be refused.
    """
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    response = thief.get("/")
    if what:
        tally.observe(response, what, expected=(302,))
    return response


def _login_sessions(app: Any) -> list[Any]:
    from app.extensions import db
    from app.models import LoginSession

    with app.app_context():
        return list(db.session.scalars(sa.select(LoginSession).order_by(LoginSession.id)))


def _stored_values(app: Any, table: str) -> list[Any]:
    from app.extensions import db

    with app.app_context():
        return [
            value for row in db.session.execute(sa.text(f"SELECT * FROM {table}")) for value in row
        ]


class TestCookieFlags:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        # What load_config gives outside development (see the test below).
        return {"SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True}

    def test_session_cookie_is_httponly_lax_and_secure(self, make_user, auth):
        make_user()
        cookie = _set_cookie(auth.login())
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}

        assert {"httponly", "secure", "samesite"} <= attributes
        assert "SameSite=Lax" in cookie


def test_cookies_are_secure_everywhere_but_development(tmp_path):
    from app.config import load_config

    for env in ({}, {"TIMEPULSE_SECURE_COOKIES": "0"}, {"TIMEPULSE_DEV": "0"}):
        config = load_config(str(tmp_path), env=env)
        assert config["SESSION_COOKIE_SECURE"] is True, env
        assert config["REMEMBER_COOKIE_SECURE"] is True, env
        assert config["SESSION_COOKIE_HTTPONLY"] is True
        assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert load_config(str(tmp_path), env={"TIMEPULSE_DEV": "1"})["SESSION_COOKIE_SECURE"] is False


def test_login_starts_a_fresh_session(client, make_user, auth):
    make_user()
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by someone before login"  # e.g. a fixed session
    before = client.get_cookie("session").value

    auth.login()

    session = _session(client)
    assert "planted" not in session
    assert session["_user_id"].isdigit()
    assert client.get_cookie("session").value != before


def test_logout_clears_the_session(client, user_id, auth):
    auth.logout()

    assert SESSION_KEYS.isdisjoint(_session(client))
    assert client.get("/").status_code == 302


def test_a_cookie_copied_before_logout_is_refused_after_it(app, client, user_id, auth):
    copied = client.get_cookie("session").value
    assert _replay(app, copied).status_code == 200  # a copy works while the session lasts

    auth.logout()

    response = _replay(app, copied, "session cookie copied before logout, replayed after it")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert _login_sessions(app) == []


def test_logging_out_on_one_device_leaves_the_others_logged_in(app, make_user):
    make_user()
    laptop, phone = _device(app), _device(app)

    assert laptop.post("/logout").status_code == 302

    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 200
    assert len(_login_sessions(app)) == 1


def test_the_session_token_is_stored_only_hashed(app, client, user_id):
    token = _session(client)["sid"]
    [row] = _login_sessions(app)

    assert row.user_id == user_id
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in str(value) for value in _stored_values(app, "login_sessions"))
    # The hash itself logs nobody in: the server hashes what the cookie carries.
    with client.session_transaction() as session:
        session["sid"] = row.token_hash
    assert client.get("/").status_code == 302


def test_a_session_without_a_login_session_token_is_logged_out(client, user_id):
    # e.g. a cookie signed before login sessions existed
    with client.session_transaction() as session:
        del session["sid"]

    response = client.get("/")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_deleting_the_account_ends_its_sessions_everywhere_and_nobody_elses(app, make_user):
    make_user()
    make_user("bob@example.com")
    laptop, phone = _device(app), _device(app)
    bob = app.test_client()
    bob.post("/login", data={"email": "bob@example.com", "password": PASSWORD})

    response = laptop.post("/settings/account/delete", data={"password": PASSWORD})

    assert response.status_code == 302
    assert phone.get("/").status_code == 302
    assert bob.get("/").status_code == 200
    assert len(_login_sessions(app)) == 1


def test_a_stolen_cookie_from_another_browser_is_refused(client, user_id):
    # session_protection="strong": the session is bound to address + browser.
    response = client.get("/", headers={"User-Agent": "Mallory/1.0"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_changing_the_password_ends_other_sessions_but_not_this_one(app, make_user, auth):
    make_user()
    other = _device(app)
    assert other.get("/").status_code == 200
    auth.login()
    copied = auth.client.get_cookie("session").value

    response = auth.client.post(
        "/settings/account/password",
        data={"pw-current": PASSWORD, "pw-new": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert auth.client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    response = _replay(app, copied, "session cookie copied before a password change")
    assert response.status_code == 302
    assert len(_login_sessions(app)) == 1


def test_log_out_everywhere_ends_every_other_session(app, make_user, auth):
    make_user()
    other = _device(app)
    auth.login()
    stolen = auth.client.get_cookie("session").value

    assert auth.client.post("/settings/account/logout-everywhere").status_code == 302

    assert auth.client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    response = _replay(app, stolen, "replayed session cookie after log-out everywhere")
    assert response.status_code == 302
    assert len(_login_sessions(app)) == 1
