"""Accounts: sign-up, log-in, log-out, throttling, safe redirects, cookies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.support.pages import page


def _users(app: Any) -> list[Any]:
    from app.extensions import db
    from app.models import User

    with app.app_context():
        return list(db.session.scalars(sa.select(User).order_by(User.id)))


def _signup(client: Any, email: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post("/signup", data={"email": email, "password": password, **extra})


def test_signup_creates_account_logs_in_and_hashes_with_argon2id(app, client):
    response = _signup(client, "Ada@Example.com", timezone="Europe/Prague")

    assert response.status_code == 302
    assert response.headers["Location"] == "/settings/profile"
    [user] = _users(app)
    assert user.email == "ada@example.com"
    assert user.timezone == "Europe/Prague"
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    page = client.get("/").get_data(as_text=True)
    assert "ada@example.com" in page


@pytest.mark.parametrize("sent", ["", "Mars/Olympus_Mons", "x" * 500])
def test_signup_without_a_known_browser_zone_starts_in_utc(app, client, sent):
    assert _signup(client, "ada@example.com", timezone=sent).status_code == 302
    assert _users(app)[0].timezone == "UTC"


def test_signup_page_carries_the_browser_zone_field_for_app_js(client):
    page = client.get("/signup").get_data(as_text=True)
    assert 'name="timezone"' in page and "data-browser-zone" in page
    assert 'type="hidden"' in page


def test_duplicate_email_in_other_case_is_refused(app, client, make_user):
    make_user("ada@example.com")

    response = _signup(client, "ADA@example.COM")

    assert response.status_code == 200
    assert "An account with that e-mail address exists already." in page(response)
    assert len(_users(app)) == 1


def test_a_parallel_duplicate_signup_is_refused_not_a_crash(app, client, make_user, monkeypatch):
    from app.auth import accounts

    make_user("ada@example.com")
    # The other request committed between our check and our insert.
    monkeypatch.setattr(accounts, "find_user", lambda email: None)

    response = _signup(client, "ada@example.com")

    assert response.status_code == 200
    assert "An account with that e-mail address exists already." in page(response)
    assert len(_users(app)) == 1


@pytest.mark.parametrize("email", ["", "   "])
def test_empty_email_is_refused_with_a_message(app, client, email):
    response = _signup(client, email)

    assert "Enter your e-mail address." in page(response)
    assert _users(app) == []


def test_malformed_email_is_refused(app, client):
    response = _signup(client, "not-an-address")
    assert "does not look like an e-mail address" in page(response)
    assert _users(app) == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Use at least 10 characters"),
        ("password123", "among the most common ones"),
        ("aaaaaaaaaaaa", "among the most common ones"),
        ("ada.lovelace-rocks", "Don't use your e-mail address in your password."),
    ],
)
def test_weak_password_is_refused_with_a_reason(app, client, password, message):
    response = _signup(client, "ada.lovelace@example.com", password)

    assert message in page(response)
    assert _users(app) == []


def test_login_and_logout(client, make_user, auth):
    make_user()

    response = auth.login("ADA@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200

    response = auth.logout()
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    after = client.get("/")
    assert after.status_code == 302
    assert after.headers["Location"].startswith("/login")


def test_logout_needs_post(client, user_id):
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_wrong_password_is_refused_without_saying_which_part(client, make_user, auth):
    make_user()
    for email, password in [("ada@example.com", "wrong password!"), ("bob@example.com", PASSWORD)]:
        response = auth.login(email, password)
        assert response.status_code == 200
        assert "That e-mail address and password do not match." in page(response)
    assert client.get("/").status_code == 302


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TIMEPULSE_LOGIN_ATTEMPTS": 3}


def test_login_is_throttled_after_repeated_failures(client, make_user, auth):
    make_user()
    for _ in range(3):
        assert auth.login(password="wrong password!").status_code == 200

    response = auth.login()  # even the right password waits now

    assert response.status_code == 429
    assert "Too many failed attempts" in page(response)
    assert client.get("/").status_code == 302


def test_throttle_forgets_failures_after_the_window(monkeypatch):
    from app.auth import throttle

    clock = [1000.0]
    monkeypatch.setattr(throttle.time, "monotonic", lambda: clock[0])
    limiter = throttle.MemoryThrottle(attempts=2, window=60)
    limiter.failure("account:ada@example.com")
    limiter.failure("account:ada@example.com")
    assert limiter.blocked("account:ada@example.com")
    assert not limiter.blocked("account:bob@example.com")

    clock[0] += 61

    assert not limiter.blocked("account:ada@example.com")


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "",
    ],
)
def test_unsafe_next_goes_to_the_dashboard(client, make_user, target):
    make_user()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "ada@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_same_site_next_is_honoured(client, make_user):
    make_user()
    bounced = client.get("/entries/?week=2026-03-23")
    assert bounced.status_code == 302
    login_url = bounced.headers["Location"]
    assert login_url.startswith("/login?next=")

    response = client.post(login_url, data={"email": "ada@example.com", "password": PASSWORD})

    assert response.headers["Location"] == "/entries/?week=2026-03-23"


def test_a_logged_in_user_is_sent_away_from_login_and_signup(client, user_id):
    assert client.get("/login").headers["Location"] == "/"
    assert client.get("/signup").headers["Location"] == "/"


def _cookie(response: Any, name: str) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return header


@pytest.mark.parametrize(
    "app_config", [{"SESSION_COOKIE_SECURE": True, "TIMEPULSE_LOGIN_ATTEMPTS": 5}]
)
def test_session_cookie_is_httponly_lax_and_secure_outside_dev(make_user, auth):
    make_user()
    cookie = _cookie(auth.login(), "session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_cookie_defaults_are_secure_unless_developing(tmp_path):
    from app.config import load_config

    production = load_config(str(tmp_path), env={})
    assert production["SESSION_COOKIE_SECURE"] is True
    assert production["REMEMBER_COOKIE_SECURE"] is True
    assert production["SESSION_COOKIE_HTTPONLY"] is True
    assert production["SESSION_COOKIE_SAMESITE"] == "Lax"
    dev = load_config(str(tmp_path), env={"TIMEPULSE_DEV": "1"})
    assert dev["SESSION_COOKIE_SECURE"] is False


def test_session_ends_when_its_login_session_is_gone(app, client, user_id):
    from app.extensions import db
    from app.models import LoginSession

    with app.app_context():
        db.session.execute(sa.delete(LoginSession))
        db.session.commit()

    assert client.get("/").status_code == 302


def _age_login_sessions(app: Any, by: timedelta) -> None:
    from app.extensions import db
    from app.models import LoginSession

    with app.app_context():
        started = datetime.now(UTC) - by
        db.session.execute(sa.update(LoginSession).values(created_at=started))
        db.session.commit()


def _login_session_count(app: Any) -> int:
    from app.extensions import db
    from app.models import LoginSession

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession))


def test_a_session_ends_after_the_session_lifetime_and_is_pruned_at_a_login(
    app, client, make_user, user_id
):
    lifetime = app.permanent_session_lifetime
    _age_login_sessions(app, lifetime - timedelta(minutes=1))
    assert client.get("/").status_code == 200

    _age_login_sessions(app, lifetime + timedelta(minutes=1))
    assert client.get("/").status_code == 302

    make_user("bob@example.com")
    bob = app.test_client()
    bob.post("/login", data={"email": "bob@example.com", "password": PASSWORD})
    assert _login_session_count(app) == 1  # Bob's; Ada's expired one is gone


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_forms_without_a_csrf_token_are_refused(app, client, make_user):
    make_user()
    response = client.post("/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "Form expired" in page(response)
    response = client.post("/signup", data={"email": "bob@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert len(_users(app)) == 1


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_every_rendered_form_carries_a_csrf_token(client, make_user):
    page = client.get("/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert 'name="csrf_token"' in client.get("/signup").get_data(as_text=True)
