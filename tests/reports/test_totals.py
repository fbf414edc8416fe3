"""Report totals: by project, by day, billable split, and agreement with the timesheet.

The report must agree with the timesheet to the minute: both split entries
at the user's local midnight, and DST days in Europe/Prague have 23 and 25
hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from app.entries.service import entries_between, totals_by_day
from app.reports.totals import NO_PROJECT_COLOUR, safe_colour
from tests.reports.support import PRAGUE, load_report, period, prague

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_totals_by_project_day_and_billable(
    db: Any, make_user: Any, make_project: Any, make_entry: Any
) -> None:
    uid = make_user()
    apollo = make_project(uid, "Apollo", client="NASA", colour="#112233")
    gemini = make_project(uid, "Gemini")
    make_entry(uid, prague(2026, 3, 2, 9), prague(2026, 3, 2, 11), project_id=apollo, billable=True)
    make_entry(uid, prague(2026, 3, 2, 13), prague(2026, 3, 2, 13, 45), project_id=apollo)
    make_entry(uid, prague(2026, 3, 3, 9), prague(2026, 3, 3, 9, 30), project_id=gemini)
    make_entry(uid, prague(2026, 3, 4, 8), prague(2026, 3, 4, 8, 20))  # no project

    report = load_report(uid, period("2026-03-02", "2026-03-08"))

    assert [p.name for p in report.projects] == ["Apollo", "Gemini", "(no project)"]
    first = report.projects[0]
    assert (first.client, first.colour) == ("NASA", "#112233")
    assert (first.billable, first.non_billable, first.total) == (2 * H, 45 * M, 2 * H + 45 * M)
    assert report.projects[2].colour == NO_PROJECT_COLOUR
    assert report.by_day[date(2026, 3, 2)] == 2 * H + 45 * M
    assert report.by_day[date(2026, 3, 3)] == 30 * M
    assert report.by_day[date(2026, 3, 8)] == timedelta()
    assert len(report.by_day) == 7
    assert report.by_day_project[date(2026, 3, 2)] == {apollo: 2 * H + 45 * M}
    assert report.billable == 2 * H
    assert report.non_billable == 45 * M + 30 * M + 20 * M
    assert report.total == report.billable + report.non_billable == 3 * H + 35 * M
    assert report.entry_count == 4


def test_entry_crossing_midnight_is_split_at_local_midnight(
    db: Any, make_user: Any, make_entry: Any
) -> None:
    uid = make_user()
    make_entry(uid, prague(2026, 3, 10, 22, 30), prague(2026, 3, 11, 1, 15))

    report = load_report(uid, period("2026-03-09", "2026-03-15"))

    assert report.by_day[date(2026, 3, 10)] == 90 * M
    assert report.by_day[date(2026, 3, 11)] == 75 * M


def test_entries_are_clipped_at_the_ranges_local_midnights(
    db: Any, make_user: Any, make_entry: Any
) -> None:
    uid = make_user()
    make_entry(uid, prague(2026, 2, 28, 23), prague(2026, 3, 1, 2))  # into March
    make_entry(uid, prague(2026, 3, 31, 23, 30), prague(2026, 4, 1, 0, 30))  # out of March

    march = load_report(uid, period("2026-03-01", "2026-03-31"))
    february = load_report(uid, period("2026-02-01", "2026-02-28"))
    april = load_report(uid, period("2026-04-01", "2026-04-30"))

    assert march.total == 2 * H + 30 * M
    assert february.total == H and april.total == 30 * M
    # Nothing counted twice, nothing lost.
    assert march.total + february.total + april.total == 4 * H


def test_running_entry_counts_up_to_now(db: Any, make_user: Any, make_entry: Any) -> None:
    uid = make_user()
    make_entry(uid, prague(2026, 3, 5, 9), None)

    report = load_report(uid, period("2026-03-02", "2026-03-08"), now=prague(2026, 3, 5, 10, 10))

    assert report.total == 70 * M
    assert report.entry_count == 1


def _dst_entries(uid: int, make_entry: Any) -> None:
    # Spring forward, Sunday 2026-03-29: 02:00 CET jumps to 03:00 CEST (a 23-hour day).
    make_entry(uid, prague(2026, 3, 28, 22), prague(2026, 3, 29, 4))  # 5 real hours
    make_entry(uid, prague(2026, 3, 29, 10), prague(2026, 3, 30, 0))  # 14 real hours
    # Fall back, Sunday 2026-10-25: 03:00 CEST returns to 02:00 CET (a 25-hour day).
    make_entry(uid, prague(2026, 10, 25, 0), prague(2026, 10, 26, 0))  # the whole day: 25 h
    make_entry(uid, prague(2026, 10, 25, 2, 30), prague(2026, 10, 25, 2, 30, fold=1))  # 1 h


def test_dst_days_agree_with_the_timesheet_to_the_minute(
    db: Any, make_user: Any, make_entry: Any
) -> None:
    uid = make_user()
    _dst_entries(uid, make_entry)

    for first, last in (("2026-03-23", "2026-03-29"), ("2026-10-19", "2026-10-25")):
        chosen = period(first, last)
        report = load_report(uid, chosen)
        sheet = totals_by_day(entries_between(uid, *chosen.bounds(PRAGUE)), PRAGUE)
        for day in chosen.days:
            assert report.by_day[day] == sheet.get(day, timedelta()), day

    spring = load_report(uid, period("2026-03-28", "2026-03-29"))
    assert spring.by_day[date(2026, 3, 28)] == 2 * H
    assert spring.by_day[date(2026, 3, 29)] == 3 * H + 14 * H
    autumn = load_report(uid, period("2026-10-25", "2026-10-25"))
    assert autumn.by_day[date(2026, 10, 25)] == 26 * H
    assert autumn.total == 26 * H


def test_whole_dst_days_have_23_and_25_hours(db: Any, make_user: Any, make_entry: Any) -> None:
    uid = make_user()
    make_entry(uid, prague(2026, 3, 29, 0), prague(2026, 3, 30, 0))
    make_entry(uid, prague(2026, 10, 25, 0), prague(2026, 10, 26, 0))

    assert load_report(uid, period("2026-03-29", "2026-03-29")).total == 23 * H
    assert load_report(uid, period("2026-10-25", "2026-10-25")).total == 25 * H


def test_another_users_entries_never_count(
    db: Any, make_user: Any, make_project: Any, make_entry: Any
) -> None:
    ada = make_user("ada@example.com")
    bob = make_user("bob@example.com")
    make_entry(ada, prague(2026, 3, 2, 9), prague(2026, 3, 2, 10))
    make_entry(bob, prague(2026, 3, 2, 9), prague(2026, 3, 2, 17), project_id=make_project(bob))

    report = load_report(ada, period("2026-03-02", "2026-03-08"))

    assert report.total == H
    assert [p.name for p in report.projects] == ["(no project)"]


def test_only_hex_colours_reach_the_chart() -> None:
    assert safe_colour("#A1b2C3") == "#A1b2C3"
    assert safe_colour('red" onload="x') == NO_PROJECT_COLOUR
    assert safe_colour(None) == NO_PROJECT_COLOUR


def test_timer_seconds_are_kept_not_rounded(db: Any, make_user: Any, make_entry: Any) -> None:
    uid = make_user()
    start = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
    make_entry(uid, start, start + timedelta(minutes=29, seconds=31))
    make_entry(uid, start + H, start + H + timedelta(minutes=29, seconds=31))

    assert load_report(uid, period("2026-03-02", "2026-03-02")).total == timedelta(
        minutes=59, seconds=2
    )
