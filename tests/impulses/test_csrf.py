"""With CSRF protection on (as in production), every panel form carries its token."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.models import TimeEntry
from tests.conftest import PASSWORD, utc


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def login(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert token
    data = {"email": "ada@example.com", "password": PASSWORD, "csrf_token": token.group(1)}
    assert client.post("/login", data=data).status_code == 302


def test_panel_forms_carry_a_token_and_posts_without_one_are_refused(
    client: Any, make_user: Any, make_feed: Any, make_occurrence: Any, fetch: Any
) -> None:
    uid = make_user()
    login(client)
    feed = make_feed(uid)
    occ = make_occurrence(uid, feed, utc(2025, 11, 4, 8))
    page = client.get("/?day=2025-11-04").get_data(as_text=True)
    forms = re.findall(r'<form method="post".*?</form>', page, re.S)
    panel_forms = [f for f in forms if "/impulses/" in f]
    assert len(panel_forms) >= 3  # track, dismiss, track all
    assert all('name="csrf_token" value="' in f for f in panel_forms)

    assert client.post(f"/impulses/{occ}/track").status_code == 400
    assert fetch(TimeEntry) == []
    token = re.search(r'name="csrf_token" value="([^"]+)"', panel_forms[0]).group(1)
    response = client.post(f"/impulses/{occ}/track", data={"csrf_token": token})
    assert response.status_code == 302 and len(fetch(TimeEntry)) == 1


def test_rule_and_track_forms_carry_a_token(
    client: Any, make_user: Any, make_feed: Any, make_occurrence: Any
) -> None:
    uid = make_user()
    login(client)
    occ = make_occurrence(uid, make_feed(uid), utc(2025, 11, 4, 8))
    assert 'name="csrf_token"' in client.get("/settings/time-tracking/rules/").get_data(
        as_text=True
    )
    assert 'name="csrf_token"' in client.get(f"/impulses/{occ}/track").get_data(as_text=True)
    assert client.post("/settings/time-tracking/rules/", data={"pattern": "x"}).status_code == 400
