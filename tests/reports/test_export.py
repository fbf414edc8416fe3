"""CSV export: parsed back with the csv module, it matches the database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app.models import Feed, Occurrence, TimeEntry
from app.reports.export import HEADER, export_rows, neutralise, source_calendars, write_csv
from app.reports.periods import Period
from tests.reports.support import PRAGUE, load_report, period, prague


def _csv(db: Any, uid: int, chosen: Period, now: datetime | None = None) -> list[dict[str, str]]:
    from app.entries.service import entries_between

    entries = entries_between(uid, *chosen.bounds(PRAGUE))
    text = write_csv(
        export_rows(entries, chosen, PRAGUE, now or datetime.now(UTC), source_calendars(entries))
    )
    assert text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    assert reader.fieldnames == HEADER
    return list(reader)


def _minutes(hm: str) -> int:
    hours, minutes = hm.split(":")
    return int(hours) * 60 + int(minutes)


def _make_feed(db: Any, uid: int, name: str) -> int:
    feed = Feed(user_id=uid, name=name, url_fingerprint=name, url_masked="outlook…ics")
    db.session.add(feed)
    db.session.flush()
    occurrence = Occurrence(
        feed_id=feed.id,
        user_id=uid,
        uid="event-1",
        start=prague(2026, 3, 3, 10),
        end=prague(2026, 3, 3, 11),
        summary="Standup",
        content_hash="h",
    )
    db.session.add(occurrence)
    db.session.commit()
    return occurrence.id


def test_csv_matches_the_database_across_dst_and_midnight(
    db: Any, make_user: Any, make_project: Any, make_entry: Any
) -> None:
    uid = make_user()
    apollo = make_project(uid, "Apollo", client="NASA")
    make_entry(
        uid,
        prague(2026, 3, 23, 9),
        prague(2026, 3, 23, 10, 45),
        project_id=apollo,
        billable=True,
        description='Plan, "phase" 2\nsecond line',
    )
    make_entry(
        uid, prague(2026, 3, 26, 23, 15), prague(2026, 3, 27, 0, 45), description="Přes půlnoc"
    )
    make_entry(uid, prague(2026, 3, 28, 22), prague(2026, 3, 29, 4), project_id=apollo)
    make_entry(uid, prague(2026, 3, 29, 10), prague(2026, 3, 29, 12, 20))
    chosen = period("2026-03-23", "2026-03-29")

    rows = _csv(db, uid, chosen)
    report = load_report(uid, chosen)
    stored = db.session.scalars(sa.select(TimeEntry).order_by(TimeEntry.start)).all()

    assert len(rows) == len(stored) == report.entry_count == 4
    for row, entry in zip(rows, stored, strict=True):
        start, end = datetime.fromisoformat(row["start"]), datetime.fromisoformat(row["end"])
        assert (start, end) == (entry.start, entry.end)
        assert start.utcoffset() == entry.start.astimezone(PRAGUE).utcoffset()
        assert row["date"] == entry.start.astimezone(PRAGUE).date().isoformat()
        assert row["description"] == entry.description
        assert row["billable"] == ("yes" if entry.billable else "no")
        assert _minutes(row["duration_hm"]) * 60 == (entry.end - entry.start).total_seconds()
    total = sum(
        (datetime.fromisoformat(r["end"]) - datetime.fromisoformat(r["start"]) for r in rows),
        timedelta(),
    )
    assert total == report.total
    assert sum(_minutes(r["duration_hm"]) for r in rows) * 60 == report.total.total_seconds()
    assert rows[0]["start"] == "2026-03-23T09:00:00+01:00"
    assert rows[0]["duration_hours"] == "1.75"
    assert (rows[0]["project"], rows[0]["client"]) == ("Apollo", "NASA")
    assert rows[2]["end"] == "2026-03-29T04:00:00+02:00"  # after the spring-forward jump
    assert rows[2]["duration_hm"] == "5:00"
    assert rows[1]["description"] == "Přes půlnoc"


def test_entries_crossing_the_range_are_clipped_so_months_add_up(
    db: Any, make_user: Any, make_entry: Any
) -> None:
    uid = make_user()
    make_entry(uid, prague(2026, 2, 28, 23), prague(2026, 3, 1, 2))

    february = _csv(db, uid, period("2026-02-01", "2026-02-28"))
    march = _csv(db, uid, period("2026-03-01", "2026-03-31"))

    assert [r["duration_hm"] for r in february] == ["1:00"]
    assert [r["duration_hm"] for r in march] == ["2:00"]
    assert march[0]["start"] == "2026-03-01T00:00:00+01:00"
    assert march[0]["date"] == "2026-03-01"
    assert february[0]["note"] == march[0]["note"] == "clipped to range"
    assert load_report(uid, period("2026-03-01", "2026-03-31")).total == timedelta(hours=2)


def test_running_entry_ends_now_and_is_marked(db: Any, make_user: Any, make_entry: Any) -> None:
    uid = make_user()
    make_entry(uid, prague(2026, 3, 5, 9), None)

    rows = _csv(db, uid, period("2026-03-02", "2026-03-08"), now=prague(2026, 3, 5, 9, 30))

    assert rows[0]["end"] == "2026-03-05T09:30:00+01:00"
    assert rows[0]["duration_hours"] == "0.50"
    assert rows[0]["note"] == "running"


def test_source_calendar_from_snapshot_or_linked_impulse(
    db: Any, make_user: Any, make_entry: Any
) -> None:
    uid = make_user()
    occurrence_id = _make_feed(db, uid, "Work (Outlook)")
    make_entry(uid, prague(2026, 3, 2, 9), prague(2026, 3, 2, 10), source_snapshot={"feed": "Old"})
    make_entry(uid, prague(2026, 3, 3, 10), prague(2026, 3, 3, 11), occurrence_id=occurrence_id)
    make_entry(uid, prague(2026, 3, 4, 10), prague(2026, 3, 4, 11))

    rows = _csv(db, uid, period("2026-03-02", "2026-03-08"))

    assert [r["source_calendar"] for r in rows] == ["Old", "Work (Outlook)", ""]


def test_formula_injection_is_neutralised(
    db: Any, make_user: Any, make_project: Any, make_entry: Any
) -> None:
    uid = make_user()
    evil = make_project(uid, "+SUM(1,2)", client="@evil")
    make_entry(
        uid,
        prague(2026, 3, 2, 9),
        prague(2026, 3, 2, 10),
        project_id=evil,
        description='=HYPERLINK("http://x.example","click")',
    )
    make_entry(uid, prague(2026, 3, 2, 11), prague(2026, 3, 2, 12), description="-2+3")

    rows = _csv(db, uid, period("2026-03-02", "2026-03-08"))

    assert rows[0]["description"] == '\'=HYPERLINK("http://x.example","click")'
    assert (rows[0]["project"], rows[0]["client"]) == ("'+SUM(1,2)", "'@evil")
    assert rows[1]["description"] == "'-2+3"
    assert neutralise("\tcmd") == "'\tcmd" and neutralise("fine = ok") == "fine = ok"


def test_another_users_entries_never_appear(db: Any, make_user: Any, make_entry: Any) -> None:
    ada, bob = make_user("ada@example.com"), make_user("bob@example.com")
    make_entry(ada, prague(2026, 3, 2, 9), prague(2026, 3, 2, 10), description="mine")
    make_entry(bob, prague(2026, 3, 2, 9), prague(2026, 3, 2, 10), description="bob's")

    rows = _csv(db, ada, period("2026-03-02", "2026-03-08"))

    assert [r["description"] for r in rows] == ["mine"]
    assert date.fromisoformat(rows[0]["date"]) == date(2026, 3, 2)
