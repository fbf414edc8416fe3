"""Expansion: overrides, EXDATE, cancellation, window edges, fields."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from tests.feeds.helpers import BERLIN, calendar, day, occurrences, utc

SERIES = """UID:s1
SUMMARY:Stand-up
DTSTART;TZID=Europe/Berlin:20250602T090000
DTEND;TZID=Europe/Berlin:20250602T091500
RRULE:FREQ=DAILY;COUNT=5
EXDATE;TZID=Europe/Berlin:20250604T090000"""
MOVED = """UID:s1
SUMMARY:Stand-up (late)
RECURRENCE-ID;TZID=Europe/Berlin:20250603T090000
DTSTART;TZID=Europe/Berlin:20250603T110000
DTEND;TZID=Europe/Berlin:20250603T111500"""
CANCELLED = """UID:s1
SUMMARY:Stand-up
STATUS:CANCELLED
RECURRENCE-ID;TZID=Europe/Berlin:20250605T090000
DTSTART;TZID=Europe/Berlin:20250605T090000
DTEND;TZID=Europe/Berlin:20250605T091500"""


def test_override_replaces_exdate_removes_cancelled_is_marked() -> None:
    found = occurrences(calendar(SERIES, MOVED, CANCELLED), utc(2025, 6, 1), utc(2025, 7, 1))
    rows = [(o.recurrence_id, o.start.strftime("%d %H:%M"), o.summary, o.status) for o in found]
    assert rows == [
        ("2025-06-02T07:00:00Z", "02 09:00", "Stand-up", None),
        ("2025-06-03T07:00:00Z", "03 11:00", "Stand-up (late)", None),
        ("2025-06-05T07:00:00Z", "05 09:00", "Stand-up", "CANCELLED"),
        ("2025-06-06T07:00:00Z", "06 09:00", "Stand-up", None),
    ]


def test_series_level_cancellation_marks_every_instance() -> None:
    data = calendar(SERIES + "\nSTATUS:CANCELLED")
    found = occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1))
    assert {o.status for o in found} == {"CANCELLED"}


def test_single_event_has_no_recurrence_id() -> None:
    data = calendar("UID:one\nSUMMARY:x\nDTSTART:20250610T080000Z\nDTEND:20250610T090000Z")
    assert occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1))[0].recurrence_id is None


def test_window_is_half_open_and_overlap_based() -> None:
    data = calendar(
        "UID:a\nSUMMARY:ends at window start\nDTSTART:20250601T080000Z\nDTEND:20250601T100000Z",
        "UID:b\nSUMMARY:overlaps start\nDTSTART:20250601T090000Z\nDTEND:20250601T110000Z",
        "UID:c\nSUMMARY:zero length at start\nDTSTART:20250601T100000Z",
        "UID:d\nSUMMARY:starts at window end\nDTSTART:20250601T120000Z\nDTEND:20250601T130000Z",
    )
    found = occurrences(data, utc(2025, 6, 1, 10), utc(2025, 6, 1, 12))
    assert [o.uid for o in found] == ["b", "c"]


def test_all_day_compared_at_midnight_of_the_reader_zone() -> None:
    data = calendar("UID:ad\nSUMMARY:Holiday\nDTSTART;VALUE=DATE:20250610")
    berlin_midnight = datetime(2025, 6, 10, tzinfo=BERLIN)
    found = occurrences(data, berlin_midnight, berlin_midnight.replace(hour=1))
    assert [(o.start, o.end, o.all_day) for o in found] == [
        (date(2025, 6, 10), date(2025, 6, 11), True)
    ]
    # 2025-06-10 00:00 in Berlin is still 2025-06-09 in UTC: not in a UTC window of the 10th.
    assert occurrences(data, utc(2025, 6, 10, 23), utc(2025, 6, 11), BERLIN) == []


def test_floating_times_read_in_default_zone_or_x_wr_timezone() -> None:
    event = "UID:f\nSUMMARY:x\nDTSTART:20250610T090000\nDTEND:20250610T100000"
    tokyo = ZoneInfo("Asia/Tokyo")
    found = occurrences(calendar(event), utc(2025, 6, 1), utc(2025, 7, 1), tokyo)
    assert found[0].start == datetime(2025, 6, 10, 9, tzinfo=tokyo)
    with_wr = calendar(event, head="X-WR-TIMEZONE:Europe/Zurich\n")
    found = occurrences(with_wr, utc(2025, 6, 1), utc(2025, 7, 1), tokyo)
    assert found[0].start.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


def test_missing_end_gives_default_lengths() -> None:
    data = calendar(
        "UID:t\nSUMMARY:timed\nDTSTART:20250610T090000Z",
        "UID:d\nSUMMARY:all day\nDTSTART;VALUE=DATE:20250611",
    )
    timed, all_day = occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1))
    assert timed.end == timed.start
    assert (all_day.start, all_day.end) == (date(2025, 6, 11), date(2025, 6, 12))


def test_fields_busy_status_private_organizer() -> None:
    data = calendar(
        "UID:x\nSUMMARY:Budget\\, Q3\nLOCATION:Room 1\nDESCRIPTION:Line one\\nLine two\n"
        "ORGANIZER;CN=Alex Example:mailto:alex@example.com\nCLASS:PRIVATE\n"
        "X-MICROSOFT-CDO-BUSYSTATUS:OOF\nTRANSP:OPAQUE\nSTATUS:TENTATIVE\n"
        "DTSTART:20250610T090000Z\nDTEND:20250610T100000Z",
        "UID:y\nSUMMARY:Free slot\nTRANSP:TRANSPARENT\nORGANIZER:MAILTO:bo@example.com\n"
        "DTSTART:20250610T110000Z\nDTEND:20250610T120000Z",
    )
    x, y = occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1))
    assert (x.summary, x.location, x.description) == ("Budget, Q3", "Room 1", "Line one\nLine two")
    assert (x.organizer, x.busy_status, x.status, x.private) == (
        "Alex Example",
        "OOF",
        "TENTATIVE",
        True,
    )
    assert (y.organizer, y.busy_status, y.private) == ("bo@example.com", "FREE", False)


def test_sorted_by_start_then_uid() -> None:
    data = calendar(
        "UID:b\nSUMMARY:x\nDTSTART:20250610T090000Z",
        "UID:a\nSUMMARY:x\nDTSTART:20250610T090000Z",
        "UID:c\nSUMMARY:x\nDTSTART;VALUE=DATE:20250610",
    )
    found = occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1))
    assert [o.uid for o in found] == ["c", "a", "b"]


def test_all_day_series_recurrence_ids_are_dates() -> None:
    data = calendar("UID:w\nSUMMARY:x\nDTSTART;VALUE=DATE:20250602\nRRULE:FREQ=WEEKLY;COUNT=2")
    found = occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1))
    assert [o.recurrence_id for o in found] == ["2025-06-02", "2025-06-09"]
    assert [day(o.start) for o in found] == ["2025-06-02", "2025-06-09"]


def test_events_far_outside_the_window_are_not_parsed() -> None:
    data = calendar(
        "UID:old\nSUMMARY:x\nDTSTART:20100610T090000Z\nDTEND:20100610T100000Z",
        "UID:ended\nSUMMARY:x\nDTSTART:20100610T090000Z\nRRULE:FREQ=DAILY;UNTIL=20100701T000000Z",
        "UID:counted\nSUMMARY:x\nDTSTART:20100610T090000Z\nRRULE:FREQ=WEEKLY;COUNT=3",
        "UID:now\nSUMMARY:x\nDTSTART:20250610T090000Z",
    )
    from app.feeds.engine import expand, read_calendar

    parsed = read_calendar(data)
    found = expand(parsed, utc(2025, 6, 1), utc(2025, 7, 1), default_tz=BERLIN)
    assert [o.uid for o in found] == ["now"]
    assert {uid for _, uid in parsed.cache} <= {"now"}
