"""The dashboard: running timer, today's entries, the week's total, impulse panel."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.support.pages import page, section

PRAGUE = ZoneInfo("Europe/Prague")


def _local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PRAGUE).astimezone(UTC)


def _today():
    return datetime.now(PRAGUE).date()


def test_dashboard_needs_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_empty_dashboard_offers_the_timer_and_the_panel_place(client, user_id):
    text = page(client.get("/"))

    assert "Start timer" in text
    assert '<label for="description">What are you working on?</label>' in text
    assert "Nothing tracked today yet." in text
    assert 'id="today-h">Today <span class="dur">0:00</span>' in text
    assert 'id="week-h">This week <span class="dur">0:00</span>' in text
    assert "impulse" in text  # the panel, or the place for it


def test_dashboard_shows_the_running_timer(client, user_id, make_entry, make_project):
    project = make_project(user_id, "Apollo")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    make_entry(user_id, start, None, description="Deep work", project_id=project)

    text = page(client.get("/"))

    assert "Running since" in text and "Deep work" in text and "Apollo" in text
    assert "Stop timer" in text and "Start timer" not in text
    assert f'data-since="{start.isoformat()}"' in text


def test_dashboard_lists_todays_entries_and_totals_the_week(client, user_id, make_entry):
    from app.timeutil import week_start

    today = _today()
    first = week_start(today, 0)
    make_entry(user_id, _local(today, 0, 10), _local(today, 0, 40), description="Today's work")
    make_entry(user_id, _local(first - timedelta(days=7), 9), _local(first - timedelta(days=7), 17))
    # From 23:00 the evening before the week to 01:00 on its first day: one hour counts.
    make_entry(user_id, _local(first, 0) - timedelta(hours=1), _local(first, 1), description="Late")

    text = page(client.get("/"))

    today_card = section(text, "today-h")
    assert "Today's work" in today_card
    assert "00:10–00:40" in today_card
    assert 'id="week-h">This week <span class="dur">1:30</span>' in text
