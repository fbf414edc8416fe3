"""Every state-changing route refuses a forged request.

With CSRF protection on (as in production): every route that accepts POST
refuses a POST without a token, with a made-up token and with a token from
another session — 400, nothing changed. Every POST-only route refuses GET
(405), and a GET on any route changes nothing. Routes come from the URL map,
so a new one is checked the day it is registered.
"""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.exceptions import HTTPException

from tests.conftest import PASSWORD
from tests.security import tally
from tests.security.support import (
    changed_rows,
    csrf_token,
    freeze,
    hostile_form,
    login,
    methods,
    populate,
    routes,
    snapshot,
    url_for_rule,
)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}


def _logged_in(app: Any, client: Any, make_user: Any) -> dict[str, int]:
    ids = populate(app, make_user("ada@example.com"))
    login(client, "ada@example.com")
    return ids


def _post_routes(app: Any) -> list[Any]:
    return [rule for rule in routes(app) if "POST" in methods(rule)]


def test_the_enumeration_sees_the_state_changing_routes(app):
    endpoints = {rule.endpoint for rule in _post_routes(app)}
    assert {"auth.logout", "entries.delete", "projects.archive", "account.delete"} <= endpoints


@pytest.mark.parametrize("token", ["missing", "made-up", "other session"])
def test_every_post_without_a_valid_token_is_refused(app, client, make_user, token):
    ids = _logged_in(app, client, make_user)
    form = {**hostile_form(ids), "password": PASSWORD, "current": PASSWORD}
    if token == "made-up":
        form["csrf_token"] = "IjAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAi.aaaa.bbbb"
    elif token == "other session":
        form["csrf_token"] = csrf_token(app.test_client(), "/login")
    before = freeze(snapshot(app))
    accepted = []
    for rule in _post_routes(app):
        url = url_for_rule(app, rule, ids)
        response = client.post(url, data=form)
        tally.observe(response, f"POST {url} with {token} CSRF token", expected=(400,))
        if response.status_code != 400:
            accepted.append(f"POST {url} ({rule.endpoint}): {response.status_code}")
    lost = changed_rows(before, freeze(snapshot(app)))
    tally.lost(lost, f"POSTs with {token} CSRF token")

    assert accepted == []
    assert lost == 0
    assert client.get("/").status_code == 200  # the forged logout did not log out


def _get_served_elsewhere(app: Any, url: str, rule: Any) -> bool:
    """True when a GET at ``url`` belongs to another route (a page sharing the
    URL, like the timesheet at /entries/ beside its POST-only create)."""
    try:
        endpoint, _args = app.url_map.bind("localhost").match(url, method="GET")
    except HTTPException:
        return False
    return endpoint != rule.endpoint


def test_post_only_routes_refuse_get(app, client, make_user):
    ids = _logged_in(app, client, make_user)
    answered = []
    for rule in routes(app):
        if methods(rule) != ["POST"]:
            continue
        url = url_for_rule(app, rule, ids)
        if _get_served_elsewhere(app, url, rule):
            continue  # that page is checked by test_no_get_changes_anything
        response = client.get(url)
        tally.observe(response, f"GET {url} on a POST-only route", expected=(405,))
        if response.status_code != 405:
            answered.append(f"GET {url} ({rule.endpoint}): {response.status_code}")
    assert answered == []


def test_no_get_changes_anything(app, client, make_user):
    ids = _logged_in(app, client, make_user)
    before = freeze(snapshot(app))
    for rule in routes(app):
        if "GET" in methods(rule):
            url = url_for_rule(app, rule, ids)
            client.get(url, query_string=hostile_form(ids)).close()
    lost = changed_rows(before, freeze(snapshot(app)))
    tally.lost(lost, "GET requests")
    assert lost == 0


def test_a_valid_token_is_accepted(app, client, make_user):
    # The refusals above are about the token, not a form that never works.
    _logged_in(app, client, make_user)
    token = csrf_token(client, "/settings/profile")
    response = client.post(
        "/settings/profile",
        data={"csrf_token": token, "timezone": "Europe/Prague", "week_start": "0",
              "rounding_minutes": "0", "rounding_mode": "nearest"},
    )  # fmt: skip
    assert response.status_code == 302
