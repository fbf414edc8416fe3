"""The timer, manual entries and the week timesheet (user in Europe/Prague)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import utc
from tests.entries.support import add, entries
from tests.support.pages import page, section

PRAGUE = ZoneInfo("Europe/Prague")


@pytest.fixture
def other_user(make_user: Any) -> int:
    return make_user("bob@example.com")


# The timer


def test_timer_starts_and_stops(app, client, user_id, make_project):
    project = make_project(user_id, "Apollo", billable_default=True)

    response = client.post(
        "/entries/timer/start", data={"description": "Writing", "project": str(project)}
    )

    assert response.headers["Location"] == "/"
    dashboard = page(client.get("/"))
    assert "Timer started." in dashboard
    assert "Running since" in dashboard and "Writing" in dashboard
    [running] = entries(app, user_id)
    assert running.end is None and running.project_id == project and running.billable

    client.post("/entries/timer/stop")

    [stopped] = entries(app, user_id)
    assert stopped.end is not None and stopped.end >= stopped.start
    assert "Timer stopped." in page(client.get("/"))


def test_a_second_running_timer_is_refused(app, client, user_id):
    client.post("/entries/timer/start", data={"description": "First"})

    client.post("/entries/timer/start", data={"description": "Second"})

    assert "A timer is already running. Stop it before starting another." in page(client.get("/"))
    [only] = entries(app, user_id)
    assert only.description == "First"


def test_the_timer_refuses_another_users_project(app, client, user_id, other_user, make_project):
    theirs = make_project(other_user, "Secret")

    client.post("/entries/timer/start", data={"description": "x", "project": str(theirs)})

    assert "Choose one of your own projects." in page(client.get("/"))
    assert entries(app, user_id) == []


def test_stopping_without_a_running_timer_says_so(client, user_id):
    client.post("/entries/timer/stop")
    assert "No timer was running." in page(client.get("/"))


def test_the_running_timer_can_be_edited_and_keeps_running(app, client, user_id, make_entry):
    entry = make_entry(user_id, utc(2026, 3, 24, 8, 0), None, description="old")

    response = client.post(
        f"/entries/{entry}/edit", data={"day": "2026-03-24", "start": "08:30", "description": "new"}
    )

    assert response.status_code == 302
    [running] = entries(app, user_id)
    assert running.end is None
    assert running.description == "new" and running.start == utc(2026, 3, 24, 7, 30)


def test_the_running_timer_cannot_be_moved_into_the_future(app, client, user_id, make_entry):
    entry = make_entry(user_id, utc(2026, 3, 24, 8, 0), None, description="old")

    response = client.post(
        f"/entries/{entry}/edit", data={"day": "2099-01-01", "start": "08:30", "description": "new"}
    )

    assert response.status_code == 400
    assert "A running timer cannot start in the future." in page(response)
    [same] = entries(app, user_id)
    assert (same.start, same.description) == (utc(2026, 3, 24, 8, 0), "old")


# Manual entries


def test_manual_entry_with_start_and_end_is_stored_in_utc(app, client, user_id, make_project):
    project = make_project(user_id)

    response = add(client, end="10:30", project=str(project), billable="y")

    assert response.status_code == 302
    assert response.headers["Location"] == "/entries/?week=2026-03-24"
    [entry] = entries(app, user_id)
    assert entry.start == utc(2026, 3, 24, 8, 0)  # CET, before the change on the 29th
    assert entry.end == utc(2026, 3, 24, 9, 30)
    assert (entry.description, entry.project_id, entry.billable) == ("Standup", project, True)
    assert entry.start.tzinfo is not None


@pytest.mark.parametrize(
    ("duration", "minutes"), [("1:45", 105), ("90m", 90), ("1.5h", 90), ("45", 45), ("1h 5m", 65)]
)
def test_manual_entry_with_start_and_duration(app, client, user_id, duration, minutes):
    assert add(client, duration=duration).status_code == 302
    [entry] = entries(app, user_id)
    assert entry.end - entry.start == timedelta(minutes=minutes)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"end": "08:00"}, "The end is before the start."),
        ({"end": "09:00"}, "The end is before the start."),
        ({}, "Enter an end time or a duration."),
        ({"duration": "soon"}, "Enter a duration like 1:30, 90m or 1.5h."),
        ({"duration": "0"}, "The duration must be more than zero."),
        ({"duration": "9999h"}, "A duration can be at most a week."),
        ({"end": "9:75"}, "Enter a date as YYYY-MM-DD and a time as HH:MM."),
        ({"start": "half past", "end": "10:00"}, "Use HH:MM, e.g. 09:30."),
        ({"day": "", "end": "10:00"}, "Pick the date."),
    ],
)
def test_bad_manual_entries_change_nothing_and_say_why(app, client, user_id, fields, message):
    response = add(client, **fields)

    assert response.status_code == 400
    assert message in page(response)
    assert entries(app, user_id) == []


def test_the_form_keeps_what_was_typed_after_an_error(client, user_id):
    text = page(add(client, end="08:00", description="Keep me"))
    assert "Keep me" in text
    assert 'value="09:00"' in text and 'value="08:00"' in text


def test_entry_across_midnight_needs_the_end_date(app, client, user_id):
    refused = add(client, start="22:00", end="02:00")
    assert "For an entry past midnight, set the end date." in page(refused)
    assert entries(app, user_id) == []

    add(client, start="22:00", end="02:00", end_day="2026-03-25")

    [entry] = entries(app, user_id)
    assert entry.end - entry.start == timedelta(hours=4)
    week = page(client.get("/entries/?week=2026-03-24"))
    assert _day_total(week, date(2026, 3, 24)) == "2:00"
    assert _day_total(week, date(2026, 3, 25)) == "2:00"
    assert "Week total: <strong>4:00</strong>" in week


def _listed_on(text: str, day: date) -> str:
    return section(text, f"day-{day.isoformat()}")


def test_an_entry_past_midnight_is_listed_on_both_days(client, user_id, make_entry):
    make_entry(user_id, utc(2026, 3, 24, 21, 0), utc(2026, 3, 25, 1, 0), description="Release")
    make_entry(user_id, utc(2026, 3, 22, 22, 30), utc(2026, 3, 22, 23, 30), description="Sunday")
    make_entry(user_id, utc(2026, 3, 26, 8, 0), utc(2026, 3, 26, 8, 0), description="Blink")

    text = page(client.get("/entries/?week=2026-03-23"))

    assert "Release" in _listed_on(text, date(2026, 3, 24))
    assert "Release" in _listed_on(text, date(2026, 3, 25))
    assert "Release" not in _listed_on(text, date(2026, 3, 26))
    # From last week's Sunday 23:30 into this Monday 00:30: Monday lists it.
    assert "Sunday" in _listed_on(text, date(2026, 3, 23))
    assert _day_total(text, date(2026, 3, 23)) == "0:30"
    # A zero-length entry (a timer stopped at once) can still be found and deleted.
    assert "Blink" in _listed_on(text, date(2026, 3, 26))


def test_another_users_project_is_refused(app, client, user_id, other_user, make_project):
    theirs = make_project(other_user, "Secret")

    response = add(client, end="10:00", project=str(theirs))

    assert response.status_code == 400
    assert "Choose one of your own projects." in page(response)
    assert entries(app, user_id) == []


@pytest.mark.parametrize("raw", ["abc", "99999999999999999999", "-1"])
def test_a_project_value_that_is_not_an_id_is_refused(app, client, user_id, raw):
    response = add(client, end="10:00", project=raw)
    assert response.status_code == 400
    assert "Choose one of your own projects." in page(response)
    assert entries(app, user_id) == []


# Edit, duplicate, delete


def test_edit_shows_the_entry_in_local_time_and_saves_changes(app, client, user_id, make_entry):
    entry = make_entry(user_id, utc(2026, 3, 24, 8, 0), utc(2026, 3, 24, 9, 0), description="Old")

    form = page(client.get(f"/entries/{entry}/edit"))
    assert 'value="2026-03-24"' in form and 'value="09:00"' in form and 'value="10:00"' in form

    response = client.post(
        f"/entries/{entry}/edit",
        data={"day": "2026-03-24", "start": "09:15", "end": "11:00", "description": "New"},
    )

    assert response.status_code == 302
    [saved] = entries(app, user_id)
    assert (saved.start, saved.end, saved.description) == (
        utc(2026, 3, 24, 8, 15),
        utc(2026, 3, 24, 10, 0),
        "New",
    )


def test_a_bad_edit_changes_nothing(app, client, user_id, make_entry):
    entry = make_entry(user_id, utc(2026, 3, 24, 8, 0), utc(2026, 3, 24, 9, 0), description="Old")

    response = client.post(
        f"/entries/{entry}/edit",
        data={"day": "2026-03-24", "start": "10:00", "end": "09:00", "description": "New"},
    )

    assert response.status_code == 400
    assert "The end is before the start." in page(response)
    [same] = entries(app, user_id)
    assert (same.start, same.end, same.description) == (
        utc(2026, 3, 24, 8, 0),
        utc(2026, 3, 24, 9, 0),
        "Old",
    )


def test_editing_keeps_an_archived_project(app, client, user_id, make_project, make_entry):
    project = make_project(user_id, "Old client", archived=True)
    start, end = utc(2026, 3, 24, 8, 0), utc(2026, 3, 24, 9, 0)
    entry = make_entry(user_id, start, end, project_id=project)

    form = page(client.get(f"/entries/{entry}/edit"))
    assert re.search(rf'<option[^>]* selected value="{project}">Old client', form)
    response = client.post(
        f"/entries/{entry}/edit",
        data={"day": "2026-03-24", "start": "09:00", "end": "10:30", "project": str(project)},
    )
    assert response.status_code == 302
    assert entries(app, user_id)[0].project_id == project


def test_project_options_carry_their_billable_default_for_app_js(client, user_id, make_project):
    paid = make_project(user_id, "Paid", billable_default=True)
    free = make_project(user_id, "Free")

    form = page(client.get("/entries/"))

    assert f'<option data-billable="1" value="{paid}">Paid</option>' in form
    assert f'<option data-billable="0" value="{free}">Free</option>' in form


def test_duplicate_places_a_copy_right_after(app, client, user_id, make_project, make_entry):
    project = make_project(user_id)
    entry = make_entry(
        user_id,
        utc(2026, 3, 24, 8, 0),
        utc(2026, 3, 24, 9, 30),
        description="Review",
        project_id=project,
        billable=True,
    )

    response = client.post(f"/entries/{entry}/duplicate")

    assert response.headers["Location"] == "/entries/?week=2026-03-24"
    original, copy = entries(app, user_id)
    assert copy.id != original.id
    assert (copy.start, copy.end) == (utc(2026, 3, 24, 9, 30), utc(2026, 3, 24, 11, 0))
    assert (copy.description, copy.project_id, copy.billable) == ("Review", project, True)
    week = page(client.get(response.headers["Location"]))
    assert "Entry duplicated." in week
    # Every row's buttons say which entry they act on, for screen readers.
    assert week.count('aria-label="Delete entry Review"') == 2
    assert week.count('aria-label="Duplicate entry Review"') == 2


def test_a_running_entry_is_not_duplicated(app, client, user_id, make_entry):
    entry = make_entry(user_id, utc(2026, 3, 24, 8, 0), None)
    client.post(f"/entries/{entry}/duplicate")
    assert "A running entry cannot be duplicated" in page(client.get("/entries/"))
    assert len(entries(app, user_id)) == 1


def test_delete_removes_the_entry(app, client, user_id, make_entry):
    keep = make_entry(user_id, utc(2026, 3, 24, 10, 0), utc(2026, 3, 24, 11, 0))
    gone = make_entry(user_id, utc(2026, 3, 24, 8, 0), utc(2026, 3, 24, 9, 0))

    response = client.post(f"/entries/{gone}/delete")

    assert response.headers["Location"] == "/entries/?week=2026-03-24"
    assert [e.id for e in entries(app, user_id)] == [keep]


# The week timesheet


def _day_total(text: str, day: date) -> str:
    match = re.search(
        rf'<h2 id="day-{day.isoformat()}">.*?<span class="dur">([^<]*)</span>', text, re.S
    )
    assert match, f"no heading for {day}"
    return match.group(1)


def test_week_navigation(client, user_id):
    text = page(client.get("/entries/?week=2026-03-25"))

    assert "Week of 23 March 2026" in text
    assert 'href="/entries/?week=2026-03-16" rel="prev"' in text
    assert 'href="/entries/?week=2026-03-30" rel="next"' in text
    days = re.findall(r'<h2 id="day-([\d-]+)"', text)
    assert days == [(date(2026, 3, 23) + timedelta(days=i)).isoformat() for i in range(7)]


@pytest.mark.parametrize("week", ["garbage", "0001-01-01", "9999-12-31"])
def test_a_nonsense_week_shows_this_week(client, user_id, week):
    assert client.get(f"/entries/?week={week}").status_code == 200


def test_daily_and_weekly_totals(client, user_id, make_entry):
    make_entry(user_id, utc(2026, 3, 23, 8, 0), utc(2026, 3, 23, 9, 30))  # Mon 1:30
    make_entry(user_id, utc(2026, 3, 24, 8, 0), utc(2026, 3, 24, 9, 0))  # Tue 1:00
    make_entry(user_id, utc(2026, 3, 24, 12, 0), utc(2026, 3, 24, 13, 0))  # Tue 1:00
    make_entry(user_id, utc(2026, 3, 30, 8, 0), utc(2026, 3, 30, 9, 0))  # next week
    # Sunday before, 23:00–01:00 local: only the hour after midnight is this week's.
    make_entry(user_id, utc(2026, 3, 22, 22, 0), utc(2026, 3, 23, 0, 0))

    text = page(client.get("/entries/?week=2026-03-23"))

    assert _day_total(text, date(2026, 3, 23)) == "2:30"
    assert _day_total(text, date(2026, 3, 24)) == "2:00"
    assert _day_total(text, date(2026, 3, 25)) == "0:00"
    assert "Week total: <strong>4:30</strong>" in text


def _local_now() -> datetime:
    return datetime.now(PRAGUE)


def test_this_week_is_shown_with_today_highlighted_and_the_form_prefilled(client, user_id):
    before = _local_now()
    text = page(client.get("/entries/"))
    after = _local_now()

    today = before.date().isoformat()
    assert re.search(r'<section class="card day today"[^>]*aria-current="date"', text)
    assert f'id="day-{today}"' in section(text, f"day-{today}")
    assert text.count('aria-current="date"') == 1
    assert re.search(rf'id="day"[^>]*value="{today}"|value="{today}"[^>]*id="day"', text)
    times = {before.strftime("%H:%M"), after.strftime("%H:%M")}
    found = re.search(r'<input[^>]*id="start"[^>]*value="([\d:]+)"', text)
    assert found and found.group(1) in times


def test_week_start_from_the_profile(app, client, user_id):
    from app.extensions import db
    from app.models import User

    with app.app_context():
        db.session.get(User, user_id).week_start = 6  # Sunday
        db.session.commit()

    text = page(client.get("/entries/?week=2026-03-25"))

    assert re.findall(r'<h2 id="day-([\d-]+)"', text)[0] == "2026-03-22"
    assert 'href="/entries/?week=2026-03-15" rel="prev"' in text
