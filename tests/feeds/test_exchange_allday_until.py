"""Exchange ends all-day series with UNTIL at the UTC instant of local midnight
of the last day (UNTIL=20250626T220000Z for a series whose last day is
Friday 2025-06-27 in Berlin). The plain libraries lose that last day."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tests.feeds.helpers import calendar, day, occurrences, utc


def test_last_day_of_all_day_series_is_kept(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    found = occurrences(
        calendar_bytes("exchange_allday_until.ics"), utc(2025, 1, 1), utc(2026, 1, 1)
    )
    days = [day(o.start) for o in found]
    assert days[-1] == "2025-06-27"
    assert len(found) == 8


def test_moved_all_day_instance_keeps_its_original_date_as_identity(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    found = occurrences(
        calendar_bytes("exchange_allday_until.ics"), utc(2025, 1, 1), utc(2026, 1, 1)
    )
    moved = [o for o in found if o.summary == "Away (moved)"]
    assert [(o.recurrence_id, day(o.start)) for o in moved] == [("2025-06-11", "2025-06-12")]
    assert "2025-06-11" not in [day(o.start) for o in found]


def test_last_day_kept_whatever_the_reader_zone(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    # The UNTIL is converted in the feed's zone (its VTIMEZONE), not the reader's.
    tokyo = ZoneInfo("Pacific/Honolulu")
    found = occurrences(
        calendar_bytes("exchange_allday_until.ics"), utc(2025, 1, 1), utc(2026, 1, 1), tokyo
    )
    assert day(found[-1].start) == "2025-06-27"


def test_last_day_kept_when_the_feed_names_no_zone() -> None:
    # No VTIMEZONE, no X-WR-TIMEZONE, several readers: 22:00Z is somebody's
    # midnight (Berlin, summer), and the day after is the last day.
    data = calendar(
        "UID:away\nSUMMARY:Away\nDTSTART;VALUE=DATE:20250604\nDTEND;VALUE=DATE:20250605\n"
        "RRULE:FREQ=WEEKLY;UNTIL=20250617T220000Z;BYDAY=WE"
    )
    for reader in ("UTC", "America/Los_Angeles", "Asia/Tokyo"):
        found = occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1), ZoneInfo(reader))
        assert [day(o.start) for o in found] == ["2025-06-04", "2025-06-11", "2025-06-18"]


def test_until_at_end_of_day_does_not_add_a_day() -> None:
    data = calendar(
        "UID:d\nSUMMARY:Daily\nDTSTART;VALUE=DATE:20250604\nRRULE:FREQ=DAILY;UNTIL=20250606T235959Z"
    )
    found = occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1), ZoneInfo("UTC"))
    assert [day(o.start) for o in found] == ["2025-06-04", "2025-06-05", "2025-06-06"]
