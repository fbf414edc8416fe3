"""Sessions: cookie flags, a fresh session at login, nothing left at logout,
and a password change ends every other session."""

from __future__ import annotations

from typing import Any

import pytest

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
    assert session["_user_id"].partition(":")[0].isdigit()
    assert client.get_cookie("session").value != before


def test_logout_clears_the_session(client, user_id, auth):
    auth.logout()

    assert SESSION_KEYS.isdisjoint(_session(client))
    assert client.get("/").status_code == 302


def test_a_stolen_cookie_from_another_browser_is_refused(client, user_id):
    # session_protection="strong": the session is bound to address + browser.
    response = client.get("/", headers={"User-Agent": "Mallory/1.0"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_changing_the_password_ends_other_sessions_but_not_this_one(app, make_user, auth):
    make_user()
    other = app.test_client()
    other.post("/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert other.get("/").status_code == 200
    auth.login()

    response = auth.client.post(
        "/settings/account/password",
        data={"pw-current": PASSWORD, "pw-new": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert auth.client.get("/").status_code == 200
    assert other.get("/").status_code == 302


def test_log_out_everywhere_ends_every_other_session(app, make_user, auth):
    make_user()
    other = app.test_client()
    other.post("/login", data={"email": "ada@example.com", "password": PASSWORD})
    auth.login()
    stolen = auth.client.get_cookie("session").value

    assert auth.client.post("/settings/account/logout-everywhere").status_code == 302

    assert auth.client.get("/").status_code == 200
    assert other.get("/").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/")
    tally.observe(response, "replayed session cookie after log-out everywhere", expected=(302,))
    assert response.status_code == 302
