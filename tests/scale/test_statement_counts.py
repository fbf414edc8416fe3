"""No N+1: the busiest pages run as many SQL statements with 10× the data.

Each page is rendered for a user with a small account, then again after
adding nine times as much of everything (projects, rules, feeds, meetings,
tracked meetings with changed sources, plain entries).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app import timeutil
from tests.scale.populate import Days, populate

ZONE = "Europe/Prague"


def _pages(days: Days) -> dict[str, str]:
    return {
        "dashboard": "/",
        "impulse panel": f"/?day={days.other.isoformat()}&show_done=1",
        "week timesheet": "/entries/",
    }


def _count_statements(app: Flask, client: FlaskClient, path: str) -> int:
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = client.get(path)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200, path
    return len(seen)


@pytest.fixture
def grow(app: Flask, user_id: int) -> Callable[[int], Days]:
    from app.extensions import db

    zone = timeutil.zone(ZONE)
    today = timeutil.today(zone)
    days = Days(today=today, other=today - timedelta(days=1))

    def add(scale: int) -> Days:
        with app.app_context():
            populate(db.session, user_id, zone, days, scale)
            db.session.remove()
        return days

    return add


def test_pages_run_a_fixed_number_of_statements(
    app: Flask, client: FlaskClient, grow: Callable[[int], Days], make_user: Any
) -> None:
    days = grow(1)
    small = {name: _count_statements(app, client, path) for name, path in _pages(days).items()}
    grow(9)
    large = {name: _count_statements(app, client, path) for name, path in _pages(days).items()}

    assert large == small
    assert all(count <= 12 for count in small.values()), small


def test_the_pages_show_the_grown_data(
    app: Flask, client: FlaskClient, grow: Callable[[int], Days]
) -> None:
    days = grow(2)
    html = client.get(_pages(days)["impulse panel"]).get_data(as_text=True)
    assert html.count("Topic 1 sync") >= 2
    assert "Work 0" in client.get("/entries/").get_data(as_text=True)
