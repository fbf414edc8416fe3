"""The profile: time zone and week start."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.pages import page


def profile(app: Any, user_id: int) -> tuple[str, int]:
    from app.extensions import db
    from app.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        return user.timezone, user.week_start


def save(client: Any, **fields: str) -> Any:
    data = {
        "timezone": "Europe/Prague",
        "week_start": "0",
        "rounding_minutes": "0",
        "rounding_mode": "nearest",
    }
    return client.post("/settings/profile", data=data | fields)


def test_profile_shows_the_current_settings(client, user_id):
    text = page(client.get("/settings/profile"))
    assert 'value="Europe/Prague"' in text
    assert '<label for="timezone">' in text and '<label for="week_start">' in text


def test_set_time_zone_and_week_start(app, client, user_id):
    response = save(client, timezone="America/New_York", week_start="6")

    assert response.headers["Location"] == "/settings/profile"
    assert "Profile saved." in page(client.get("/settings/profile"))
    assert profile(app, user_id) == ("America/New_York", 6)
    assert "Times shown in America/New_York" in page(client.get("/"))


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("Mars/Olympus_Mons", "“Mars/Olympus_Mons” is not a time zone we know."),
        ("europe/prague", "“europe/prague” is not a time zone we know."),
        ("", "Choose your time zone."),
    ],
)
def test_unknown_time_zone_is_refused_and_nothing_saved(app, client, user_id, zone, message):
    response = save(client, timezone=zone, week_start="6")

    assert response.status_code == 400
    assert message in page(response)
    assert profile(app, user_id) == ("Europe/Prague", 0)


def test_unknown_week_start_is_refused(app, client, user_id):
    response = save(client, week_start="9")
    assert response.status_code == 400
    assert profile(app, user_id) == ("Europe/Prague", 0)


@pytest.mark.parametrize(("week_start", "first"), [("0", "2026-03-23"), ("6", "2026-03-22")])
def test_week_start_changes_the_timesheets_first_day(client, user_id, week_start, first):
    save(client, week_start=week_start)

    text = page(client.get("/entries/?week=2026-03-25"))

    assert re.findall(r'<h2 id="day-([\d-]+)"', text)[0] == first
