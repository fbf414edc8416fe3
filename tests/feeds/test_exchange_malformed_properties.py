"""One malformed property costs that event at most — reported — never the feed."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from app.feeds.engine import inspect_calendar
from tests.feeds.helpers import day, utc


def _report(calendar_bytes):  # type: ignore[no-untyped-def]
    return inspect_calendar(
        calendar_bytes("exchange_malformed.ics"),
        utc(2025, 6, 1),
        utc(2025, 7, 1),
        default_tz=ZoneInfo("Europe/Berlin"),
    )


def test_repairable_events_are_repaired(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    found = _report(calendar_bytes).occurrences
    by_uid: dict[str, list[str]] = {}
    for o in found:
        if o.all_day:
            continue
        by_uid.setdefault(o.uid, []).append(o.start.astimezone(UTC).strftime("%m-%d %H:%M"))  # type: ignore[union-attr]
    # DTSTART;TZID="W. Europe Standard Time:20250603T090000" → 09:00 CEST
    assert by_uid["quoted-value"] == ["06-03 07:00", "06-10 07:00", "06-17 07:00"]
    # RRULE:FREQ=WEEKLY\;COUNT=2\;BYDAY=MO\,TH → unescaped and used
    assert by_uid["escaped-rrule"] == ["06-02 12:00", "06-05 12:00"]
    assert by_uid["broken-tzid"] == ["06-04 10:00"]  # unknown zone → reader's zone
    assert by_uid["fine"] == ["06-06 12:00"]


def test_negative_week_duration_gives_a_one_day_event(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    (event,) = [o for o in _report(calendar_bytes).occurrences if o.uid == "negative-duration"]
    assert (day(event.start), day(event.end), event.all_day) == ("2025-06-05", "2025-06-06", True)


def test_unreadable_events_are_skipped_and_named(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    report = _report(calendar_bytes)
    skipped = {d.uid: d for d in report.diagnostics if d.code == "series_skipped"}
    assert set(skipped) == {"garbage-start", "garbage-rule"}
    assert "Unreadable start" in skipped["garbage-start"].message
    assert all(d.severity == "warning" for d in skipped.values())
    repaired = {d.uid for d in report.diagnostics if d.code == "series_repaired"}
    assert repaired == {"quoted-value", "negative-duration", "escaped-rrule"}
    assert any(d.code == "timezone_unknown" for d in report.diagnostics)
