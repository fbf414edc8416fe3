"""The /reports page and its CSV download, as a logged-in user sees them."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import timeutil
from tests.reports.support import prague


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_reports_require_login(client: FlaskClient) -> None:
    for url in ("/reports/", "/reports/csv?range=last_month"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_nav_links_to_reports(client: FlaskClient, user_id: int) -> None:
    assert 'href="/reports/"' in _text(client.get("/"))


def test_empty_range_shows_the_empty_state(client: FlaskClient, user_id: int) -> None:
    response = client.get("/reports/?range=custom&from=2020-01-01&to=2020-01-31")
    assert response.status_code == 200
    page = _text(response)
    assert "Nothing tracked between 1 Jan 2020 and 31 Jan 2020" in page
    assert '<svg class="chart report-chart"' not in page


def test_page_shows_totals_chart_table_and_csv_link(
    client: FlaskClient, user_id: int, make_project: Any, make_entry: Any
) -> None:
    apollo = make_project(user_id, "Apollo", client="NASA", colour="#123456")
    make_entry(
        user_id, prague(2026, 3, 2, 9), prague(2026, 3, 2, 11), project_id=apollo, billable=True
    )
    make_entry(user_id, prague(2026, 3, 3, 9), prague(2026, 3, 3, 9, 30))

    response = client.get("/reports/?range=custom&from=2026-03-02&to=2026-03-08")

    page = _text(response)
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers
    assert re.search(r"Billable</dt><dd class=\"dur\">2:00", page)
    assert re.search(r"Non-billable</dt><dd class=\"dur\">0:30", page)
    assert 'role="img"' in page and 'fill="#123456"' in page
    assert "<caption>Hours per day by project</caption>" in page
    assert "<caption>Time by project</caption>" in page
    assert "/reports/csv?range=custom&amp;from=2026-03-02&amp;to=2026-03-08" in page
    assert "style=" not in page and "<script>" not in page
    assert '/reports/?range=custom&amp;from=2026-02-23&amp;to=2026-03-01" rel="prev"' in page


@pytest.mark.parametrize(
    ("week_start", "first", "last"),
    [(0, date(2026, 3, 2), date(2026, 3, 8)), (6, date(2026, 3, 1), date(2026, 3, 7))],
)
def test_this_week_follows_the_users_first_weekday(
    client: FlaskClient,
    auth: Any,
    make_user: Any,
    monkeypatch: pytest.MonkeyPatch,
    week_start: int,
    first: date,
    last: date,
) -> None:
    make_user(week_start=week_start)
    auth.login()
    monkeypatch.setattr(timeutil, "today", lambda tz: date(2026, 3, 4))

    page = _text(client.get("/reports/?range=this_week"))

    assert f'name="from" value="{first.isoformat()}"' in page
    assert f'name="to" value="{last.isoformat()}"' in page
    assert 'aria-current="true">This week</a>' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("range=custom&from=2026-03-10&to=2026-03-01", "The end date must be on or after"),
        ("range=custom&from=2024-01-01&to=2026-01-01", "at most 366 days"),
        ("range=custom&from=soon&to=2026-01-01", "Enter the start date as YYYY-MM-DD"),
        ("range=someday", "Choose this week, last week"),
    ],
)
def test_bad_ranges_get_a_clear_message(
    client: FlaskClient, user_id: int, query: str, message: str
) -> None:
    for url in (f"/reports/?{query}", f"/reports/csv?{query}"):
        response = client.get(url)
        assert response.status_code == 400
        assert message in _text(response)
        assert 'role="alert"' in _text(response)


def test_csv_download(client: FlaskClient, user_id: int, make_entry: Any) -> None:
    make_entry(user_id, prague(2026, 3, 2, 9), prague(2026, 3, 2, 10), description="=1+1")

    response = client.get("/reports/csv?range=custom&from=2026-03-01&to=2026-03-31")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="timepulse-2026-03-01-2026-03-31.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [(r["start"], r["duration_hm"], r["description"]) for r in rows] == [
        ("2026-03-02T09:00:00+01:00", "1:00", "'=1+1")
    ]


def test_two_users_see_only_their_own(
    client: FlaskClient, auth: Any, make_user: Any, make_project: Any, make_entry: Any
) -> None:
    ada, bob = make_user("ada@example.com"), make_user("bob@example.com")
    make_entry(
        bob,
        prague(2026, 3, 2, 9),
        prague(2026, 3, 2, 17),
        description="bob secret",
        project_id=make_project(bob, "Bob's project"),
    )
    make_entry(ada, prague(2026, 3, 2, 9), prague(2026, 3, 2, 10), description="ada work")
    auth.login("ada@example.com")
    query = "range=custom&from=2026-03-01&to=2026-03-31"

    page = _text(client.get(f"/reports/?{query}"))
    export = client.get(f"/reports/csv?{query}").data.decode("utf-8-sig")

    assert "Bob&#39;s project" not in page and "Bob's project" not in page
    assert "8:00" not in page
    assert "ada work" in export and "bob secret" not in export


def _week_total(page: str) -> str:
    return re.search(r"Week total: <strong>([0-9:]+)</strong>", page).group(1)


def _report_total(page: str) -> str:
    return re.search(r'id="summary-h">Total <span class="dur">([0-9:]+)</span>', page).group(1)


def test_report_page_agrees_with_the_timesheet_over_dst(
    client: FlaskClient, user_id: int, make_entry: Any
) -> None:
    make_entry(user_id, prague(2026, 3, 22, 23), prague(2026, 3, 23, 1, 10))  # into the week
    make_entry(user_id, prague(2026, 3, 28, 22), prague(2026, 3, 29, 4))  # across the jump
    make_entry(user_id, prague(2026, 3, 29, 23), prague(2026, 3, 30, 0, 20))  # out of the week
    make_entry(user_id, prague(2026, 10, 25, 1), prague(2026, 10, 25, 4))  # 4 real hours

    for monday, sunday in (("2026-03-23", "2026-03-29"), ("2026-10-19", "2026-10-25")):
        sheet = _text(client.get(f"/entries/?week={monday}"))
        report = _text(client.get(f"/reports/?range=custom&from={monday}&to={sunday}"))
        assert _report_total(report) == _week_total(sheet)

    spring = _text(client.get("/reports/?range=custom&from=2026-03-23&to=2026-03-29"))
    assert _report_total(spring) == "7:10"  # 1:10 + 5:00 (23:00–04:00 on a 23 h night) + 1:00
    autumn = _text(client.get("/reports/?range=custom&from=2026-10-19&to=2026-10-25"))
    assert _report_total(autumn) == "4:00"


def test_dashboard_shows_the_weeks_hours_per_day(
    client: FlaskClient, user_id: int, make_entry: Any
) -> None:
    tz = timeutil.zone("Europe/Prague")
    today = timeutil.today(tz)
    midnight = timeutil.local_midnight(today, tz)
    make_entry(user_id, midnight, midnight + timedelta(hours=2))

    page = _text(client.get("/"))

    assert '<svg class="chart week-chart"' in page
    assert '<rect class="week-bar today"' in page
    assert "<caption>Hours per day this week</caption>" in page
    assert f"{today:%A} {today.day} {today:%b}</th><td>2:00</td>" in page
