"""Login throttling per address and per account, on both backends: in memory
(the embedded default) and Redis (when TIMEPULSE_REDIS_URL is set). The Redis
leg runs against the real server at TEST_REDIS_URL and is skipped only when
that variable is unset."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.security import tally

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
ATTEMPTS = 3
BACKENDS = [
    "memory",
    pytest.param(
        "redis", marks=pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app_config(backend: str) -> dict[str, Any]:
    return {
        "TIMEPULSE_REDIS_URL": REDIS_URL if backend == "redis" else "",
        "TIMEPULSE_LOGIN_ATTEMPTS": ATTEMPTS,
        "TIMEPULSE_LOGIN_WINDOW": 60,
    }


@pytest.fixture
def unique() -> Iterator[str]:
    """A fresh tag so Redis counts of one test (or backend leg) never meet another's."""
    tag = uuid.uuid4().hex[:10]
    yield tag
    if REDIS_URL:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"timepulse:login:*{tag}*"):
            client.delete(key)
        client.close()


def _address(unique: str, n: int) -> str:
    """A client address of this test alone (Redis counts outlive a test)."""
    return f"10.{int(unique[:2], 16)}.{int(unique[2:4], 16)}.{n}"


def _login(client: Any, email: str, password: str, address: str) -> Any:
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def _fail(client: Any, email: str, address: str, times: int = ATTEMPTS) -> None:
    for _ in range(times):
        response = _login(client, email, "wrong password, again", address)
        tally.observe(response, "wrong password at login", expected=(200, 429))
        assert response.status_code == 200


def test_the_configured_backend_is_used(app, backend):
    from app.auth.throttle import MemoryThrottle, RedisThrottle, app_throttle

    with app.app_context():
        kind = RedisThrottle if backend == "redis" else MemoryThrottle
        assert isinstance(app_throttle(), kind)


def test_an_account_is_throttled_whatever_the_address(client, make_user, unique):
    email = f"ada-{unique}@example.com"
    make_user(email)
    for n in range(ATTEMPTS):
        _fail(client, email, _address(unique, n), times=1)

    # The right password from yet another address is refused too, for now.
    response = _login(client, email, PASSWORD, _address(unique, 9))
    tally.observe(response, "login while the account is throttled", expected=(429,))
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_an_address_is_throttled_whatever_the_account(client, make_user, unique):
    make_user(f"victim-{unique}@example.com")
    address = _address(unique, 7)
    for n in range(ATTEMPTS):
        _fail(client, f"guess{n}-{unique}@example.com", address, times=1)

    response = _login(client, f"victim-{unique}@example.com", PASSWORD, address)
    assert response.status_code == 429
    # The same account from another address is fine: it was not attacked.
    assert (
        _login(client, f"victim-{unique}@example.com", PASSWORD, _address(unique, 1)).status_code
        == 302
    )


def test_a_good_login_clears_the_accounts_count(client, make_user, auth, unique):
    email = f"ada-{unique}@example.com"
    make_user(email)
    _fail(client, email, _address(unique, 10), times=ATTEMPTS - 1)
    assert _login(client, email, PASSWORD, _address(unique, 11)).status_code == 302
    auth.logout()

    _fail(client, email, _address(unique, 12), times=ATTEMPTS - 1)
    assert _login(client, email, PASSWORD, _address(unique, 13)).status_code == 302


def test_the_account_page_password_prompts_share_the_throttle(client, make_user, unique):
    email = f"ada-{unique}@example.com"
    make_user(email)
    assert _login(client, email, PASSWORD, _address(unique, 20)).status_code == 302
    for _ in range(ATTEMPTS):
        response = client.post(
            "/settings/account/email",
            data={"em-email": f"new-{unique}@example.com", "em-password": "not it at all"},
            environ_base={"REMOTE_ADDR": _address(unique, 20)},
        )
        tally.observe(response, "wrong password on the account page")
        assert response.status_code == 400

    response = client.post(
        "/settings/account/email",
        data={"em-email": f"new-{unique}@example.com", "em-password": PASSWORD},
        environ_base={"REMOTE_ADDR": _address(unique, 20)},
    )
    assert response.status_code == 429


# -- the two throttles directly ---------------------------------------------


def _throttle(backend: str, window: int = 60) -> Any:
    from app.auth.throttle import make_throttle

    return make_throttle(REDIS_URL if backend == "redis" else "", ATTEMPTS, window)


def test_failures_block_only_their_own_key(backend, unique):
    throttle = _throttle(backend)
    for _ in range(ATTEMPTS - 1):
        throttle.failure(f"account:a-{unique}")
    assert not throttle.blocked(f"account:a-{unique}")
    throttle.failure(f"account:a-{unique}")
    assert throttle.blocked(f"account:a-{unique}")
    assert not throttle.blocked(f"account:b-{unique}")
    throttle.reset(f"account:a-{unique}")
    assert not throttle.blocked(f"account:a-{unique}")


def test_failures_are_forgotten_after_the_window(backend, unique, monkeypatch):
    if backend == "memory":
        import app.auth.throttle as module

        clock = [1000.0]
        monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
        throttle = _throttle(backend, window=60)
        for _ in range(ATTEMPTS):
            throttle.failure(f"ip:{unique}")
        assert throttle.blocked(f"ip:{unique}")
        clock[0] += 61
        assert not throttle.blocked(f"ip:{unique}")
        return
    throttle = _throttle(backend, window=60)
    for _ in range(ATTEMPTS):
        throttle.failure(f"ip:{unique}")
    assert throttle.blocked(f"ip:{unique}")
    ttl = throttle.client.ttl(f"timepulse:login:ip:{unique}")
    assert 0 < ttl <= 60  # Redis expires the count: the window is the key's lifetime
    throttle.client.close()


def test_the_memory_throttle_stays_bounded_under_invented_keys(monkeypatch):
    import app.auth.throttle as module

    clock = [1000.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    throttle = module.MemoryThrottle(ATTEMPTS, window=60, sweep_at=100)
    for n in range(1000):
        throttle.blocked(f"account:looked-up-{n}@example.com")
    assert len(throttle) == 0  # looking up stores nothing

    for n in range(1000):
        clock[0] += 1  # one failure a second, each from a new address
        throttle.failure(f"ip:{n}")
    assert len(throttle) <= 100 + 60  # only keys still inside the window survive a sweep


class TestRedisDown:
    """An outage of the shared store refuses logins instead of counting nothing."""

    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"TIMEPULSE_REDIS_URL": "redis://127.0.0.1:1/0"}  # nothing listens there

    def test_login_answers_503_and_logs_nobody_in(self, client, make_user):
        make_user()
        response = client.post("/login", data={"email": "ada@example.com", "password": PASSWORD})

        tally.observe(response, "login while the throttle store is down", expected=(503,))
        assert response.status_code == 503
        assert "Logging in is unavailable for a moment" in response.get_data(as_text=True)
        assert client.get("/").status_code == 302
