"""Forms carry a working CSRF token.

That every state-changing route refuses a missing or foreign token is proven
route by route, from the URL map, in ``tests/security/test_csrf_routes.py``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import PASSWORD


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def _token(client: Any, url: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get(url).text)
    assert found, url
    return found.group(1)


def test_login_with_the_pages_token_works(client, make_user):
    make_user()
    data = {
        "email": "ada@example.com",
        "password": PASSWORD,
        "csrf_token": _token(client, "/login"),
    }
    assert client.post("/login", data=data).status_code == 302


def test_timer_start_with_the_token_works(client, make_user):
    make_user()
    login = {
        "email": "ada@example.com",
        "password": PASSWORD,
        "csrf_token": _token(client, "/login"),
    }
    client.post("/login", data=login)
    token = _token(client, "/")
    response = client.post("/entries/timer/start", data={"csrf_token": token, "description": "x"})
    assert response.status_code == 302
    assert "Running since" in client.get("/").text
