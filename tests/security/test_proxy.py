"""Behind a reverse proxy (TIMEPULSE_PROXY_HOPS), the client's own address and
scheme are used; without that setting, forwarded headers are ignored."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TIMEPULSE_PROXY_HOPS": 1}


def test_forwarded_https_gets_hsts(client: Any) -> None:
    response = client.get("/login", headers=FORWARDED)
    assert "max-age" in response.headers.get("Strict-Transport-Security", "")


def test_throttle_counts_the_forwarded_client_not_the_proxy(client: Any, make_user: Any) -> None:
    make_user()
    bad = {"email": "nobody@example.com", "password": "wrong password!"}
    for _ in range(5):
        client.post("/login", data=bad, headers=FORWARDED)
    assert client.post("/login", data=bad, headers=FORWARDED).status_code == 429
    # Another client behind the same proxy is not locked out by the first one.
    other = {**FORWARDED, "X-Forwarded-For": "198.51.100.9"}
    good = {"email": "ada@example.com", "password": PASSWORD}
    assert client.post("/login", data=good, headers=other).status_code == 302
