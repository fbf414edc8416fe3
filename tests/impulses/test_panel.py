"""The impulse panel on the dashboard: which impulses, in which zone, with which filters."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.models import Occurrence
from tests.conftest import utc

DAY = "2025-11-04"  # a Tuesday; Europe/Prague is UTC+1


def panel(client: Any, **args: str) -> str:
    response = client.get("/", query_string={"day": DAY, **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_lists_the_days_impulses_in_the_users_zone(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any
) -> None:
    make_occurrence(
        user_id,
        feed_id,
        utc(2025, 11, 4, 8),
        utc(2025, 11, 4, 9),
        "Design review",
        location="Room 4",
        busy_status="TENTATIVE",
    )
    page = panel(client)
    assert "09:00–10:00" in page  # 08:00 UTC is 09:00 in Prague
    assert "Design review" in page and "Room 4" in page and "tentative" in page
    assert 'fill="#d53f8c"' in page  # the feed's colour
    assert "Work calendar" in page


def test_only_that_local_day(client: Any, user_id: int, feed_id: int, make_occurrence: Any) -> None:
    # 23:30 UTC on the 3rd is 00:30 on the 4th in Prague; 23:30 UTC on the 4th is the 5th.
    make_occurrence(user_id, feed_id, utc(2025, 11, 3, 23, 30), summary="Early bird")
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 23, 30), summary="Night owl")
    make_occurrence(user_id, feed_id, utc(2025, 11, 3, 22, 0), utc(2025, 11, 3, 23, 0), "Eve")
    page = panel(client)
    assert "Early bird" in page
    assert "Night owl" not in page and "Eve" not in page
    assert "Night owl" in panel(client, day="2025-11-05")


def test_a_meeting_across_midnight_shows_on_both_days(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any
) -> None:
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 22), utc(2025, 11, 5, 1), "Release night")
    assert "Release night" in panel(client)
    page = panel(client, day="2025-11-05")
    assert "Release night" in page and "Tue 23:00–02:00" in page


def test_all_day_events_match_by_date_in_any_zone(
    client: Any, make_user: Any, auth: Any, make_feed: Any, make_occurrence: Any
) -> None:
    uid = make_user(email="la@example.com", timezone="America/Los_Angeles")
    auth.login("la@example.com")
    feed = make_feed(uid)
    make_occurrence(uid, feed, date(2025, 11, 4), summary="Offsite")
    make_occurrence(uid, feed, date(2025, 11, 3), date(2025, 11, 6), summary="Conference")
    page = panel(client)
    assert "Offsite" in page and "all day" in page and "Conference" in page
    page = panel(client, day="2025-11-03")
    assert "Offsite" not in page and "Conference" in page
    assert "Conference" not in panel(client, day="2025-11-06")


def test_default_day_is_today_in_the_users_zone(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any
) -> None:
    soon = datetime.now(UTC).replace(second=0, microsecond=0)
    make_occurrence(user_id, feed_id, soon, soon + timedelta(minutes=1), "Right now")
    page = client.get("/").get_data(as_text=True)
    assert "Right now" in page and "· today" in page


def test_day_navigation_and_picker(client: Any, user_id: int, feed_id: int) -> None:
    page = panel(client, hide_free="1")
    assert 'href="/?day=2025-11-03&amp;hide_free=1"' in page
    assert 'href="/?day=2025-11-05&amp;hide_free=1"' in page
    assert 'type="date" id="impulse-day" name="day" value="2025-11-04"' in page
    assert "Tue 4 Nov 2025" in page


def test_an_unreadable_day_means_today(client: Any, user_id: int, feed_id: int) -> None:
    page = client.get("/?day=yesterday-ish").get_data(as_text=True)
    assert "· today" in page


def test_paused_feeds_and_other_users_stay_out(
    client: Any, user_id: int, feed_id: int, make_user: Any, make_feed: Any, make_occurrence: Any
) -> None:
    paused = make_feed(user_id, name="Old", paused=True)
    make_occurrence(user_id, paused, utc(2025, 11, 4, 9), summary="From paused feed")
    other = make_user(email="eve@example.com")
    make_occurrence(other, make_feed(other), utc(2025, 11, 4, 9), summary="Eve's secret")
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 10), summary="Mine")
    page = panel(client)
    assert "Mine" in page
    assert "From paused feed" not in page and "Eve&#39;s secret" not in page


def test_removed_impulses_disappear_unless_tracked(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any
) -> None:
    gone = utc(2025, 11, 4, 12)
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 9), summary="Vanished", removed_at=gone)
    make_occurrence(
        user_id, feed_id, utc(2025, 11, 4, 10), summary="Kept", removed_at=gone, state="tracked"
    )
    page = panel(client, show_done="1")
    assert "Vanished" not in page
    assert "Kept" in page and "removed from the calendar" in page


def test_filters(client: Any, user_id: int, feed_id: int, make_occurrence: Any) -> None:
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 9), summary="Focus time", busy_status="FREE")
    make_occurrence(user_id, feed_id, date(2025, 11, 4), summary="Holiday")
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 10), summary="Done one", state="tracked")
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 11), summary="Skipped", state="dismissed")
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 12), summary="Planning")

    page = panel(client)
    assert "Focus time" in page and "Holiday" in page and "Planning" in page
    assert "Done one" not in page and "Skipped" not in page
    assert "2 tracked or dismissed" in page

    page = panel(client, hide_free="1", hide_all_day="1")
    assert "Focus time" not in page and "Holiday" not in page and "Planning" in page
    assert "1 free" in page and "1 all-day" in page

    page = panel(client, show_done="1")
    assert "Done one" in page and "Skipped" in page and ">Undo<" in page
    assert 'name="show_done" value="1" checked' in page
    # The filters travel with every action, so a redirect comes back to them.
    assert 'name="next" value="/?day=2025-11-04&amp;show_done=1"' in page


def test_availability_only_feed_shows_a_banner(client: Any, user_id: int, make_feed: Any) -> None:
    from app.feeds.catalogue import CATALOGUE

    make_feed(user_id, detail_level="availability_only")
    page = panel(client)
    assert "only shares Busy/Free" in page
    assert f'href="/help/troubleshooting#{CATALOGUE["availability_only"].anchor}"' in page


def test_meetings_of_several_feeds_in_time_order_feeds_by_name(
    client: Any, user_id: int, make_feed: Any, make_occurrence: Any
) -> None:
    zeta = make_feed(user_id, "Zeta", colour="#111111", detail_level="availability_only")
    alpha = make_feed(user_id, "alpha", colour="#222222", detail_level="availability_only")
    make_feed(user_id, "Middle")  # full details, no meetings: names the other two
    make_occurrence(user_id, zeta, utc(2025, 11, 4, 8), summary="Z early")
    make_occurrence(user_id, alpha, utc(2025, 11, 4, 9), summary="A middle")
    make_occurrence(user_id, zeta, utc(2025, 11, 4, 10), summary="Z late")
    page = panel(client)
    assert page.index("Z early") < page.index("A middle") < page.index("Z late")
    # Each row with its own feed's colour and name.
    row = page[page.index("A middle") - 400 : page.index("A middle") + 400]
    assert 'fill="#222222"' in row and "alpha" in row and "Zeta" not in row
    # Feeds by name in the database's collation: both orders are fine, never a mix-up.
    assert "(Zeta, alpha)" in page or "(alpha, Zeta)" in page


def test_no_banner_for_full_details(client: Any, user_id: int, make_feed: Any) -> None:
    make_feed(user_id, detail_level="limited_details")
    assert "only shares Busy/Free" not in panel(client)


def test_empty_state_without_a_feed(client: Any, user_id: int) -> None:
    page = panel(client)
    assert "No calendar connected yet" in page
    assert 'href="/help/troubleshooting"' in page
    assert "Track all" not in page


def test_no_meetings_that_day(client: Any, user_id: int, feed_id: int) -> None:
    assert "No meetings on this day." in panel(client)


def test_panel_needs_a_fixed_number_of_queries(
    app: Any, client: Any, user_id: int, feed_id: int, make_occurrence: Any, make_project: Any
) -> None:
    from app.extensions import db

    project = make_project(user_id)

    def statements_for_dashboard() -> int:
        with app.app_context():
            engine = db.engine
        seen: list[str] = []

        def count(*_args: Any) -> None:
            seen.append("x")

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            panel(client, show_done="1")
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    def add(n: int, offset: int) -> None:
        for i in range(n):
            start = utc(2025, 11, 4, 6) + timedelta(minutes=10 * (i + offset))
            occ = make_occurrence(user_id, feed_id, start, summary=f"Meeting {i + offset}")
            if i % 2:
                _track_directly(app, user_id, occ, project)

    add(2, 0)
    few = statements_for_dashboard()
    add(20, 2)
    assert statements_for_dashboard() == few


def _track_directly(app: Any, user_id: int, occurrence_id: int, project_id: int) -> None:
    from app.extensions import db
    from app.models import TimeEntry

    with app.app_context():
        occ = db.session.get(Occurrence, occurrence_id)
        occ.state = "tracked"
        db.session.add(
            TimeEntry(
                user_id=user_id,
                start=occ.start,
                end=occ.end,
                project_id=project_id,
                occurrence_id=occ.id,
            )
        )
        db.session.commit()


@pytest.mark.parametrize("args", [{"hide_free": "yes"}, {"show_done": "on"}])
def test_filter_values_are_forgiving(
    client: Any, user_id: int, feed_id: int, args: dict[str, str]
) -> None:
    page = panel(client, **args)
    name = next(iter(args))
    assert f'name="{name}" value="1" checked' in page


def test_panel_statement_fits_psycopg_cache() -> None:
    """psycopg caches how it parses a statement's placeholders only for statements
    of up to 4 KiB; a longer panel statement is parsed anew on every dashboard view."""
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    from app.impulses.panel import _feeds_and_day_select

    try:
        from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH as limit
    except ImportError:  # moved in another psycopg version: its value since 3.1
        limit = 4096
    sql = str(_feeds_and_day_select().compile(dialect=dialect()))
    assert len(sql.encode()) <= limit
