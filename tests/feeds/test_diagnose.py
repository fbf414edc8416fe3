"""diagnose(): detail level, availability-only in any language, private, empty, stale."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.feeds.diagnose import (
    detect_detail_level,
    diagnose,
    is_availability_only,
    is_stale,
    needs_fix,
)
from app.feeds.types import BusyStatus, Diagnostic, Occurrence
from tests.feeds.diagnose_support import read_fixture

MARCH = (date(2024, 3, 1), date(2024, 4, 1))


def occ(
    summary: str,
    busy: BusyStatus | None = "BUSY",
    *,
    uid: str | None = None,
    n: int = 0,
    location: str = "",
    description: str = "",
    private: bool = False,
    cancelled: bool = False,
) -> Occurrence:
    start = datetime(2024, 3, 4, 9, tzinfo=UTC) + timedelta(days=n)
    return Occurrence(
        uid=uid or f"uid-{summary}-{n}",
        recurrence_id=None,
        start=start,
        end=start + timedelta(hours=1),
        all_day=False,
        summary=summary,
        location=location,
        description=description,
        busy_status=busy,
        status="CANCELLED" if cancelled else None,
        private=private,
    )


def codes(found: list[Diagnostic]) -> list[str]:
    return [d.code for d in found]


# --- our own fixtures, one per language ------------------------------------------


@pytest.mark.parametrize("language", ["en", "de", "cs", "fr", "es", "pl", "sv"])
def test_availability_only_feed_is_recognised_by_its_words(language: str) -> None:
    report = read_fixture(f"availability_{language}.ics", *MARCH)
    level, found = diagnose(report.occurrences, event_count=report.event_count)
    assert level == "availability_only"
    assert codes(found) == ["availability_only"]
    assert needs_fix(found)


@pytest.mark.parametrize("language", ["fi", "ja"])
def test_availability_only_feed_in_an_unlisted_language_is_caught_by_structure(
    language: str,
) -> None:
    report = read_fixture(f"availability_{language}.ics", *MARCH)
    assert detect_detail_level(report.occurrences) == "availability_only"


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("diag_limited.ics", "limited"),
        ("diag_full.ics", "full"),
        ("diag_one_busy.ics", "limited"),  # one meeting called "Busy" is just a meeting
        ("diag_routine.ics", "limited"),  # a recurring standup and lunch, nothing else
        ("diag_private.ics", "limited"),
    ],
)
def test_ordinary_calendars_are_not_flagged(name: str, level: str) -> None:
    report = read_fixture(name, *MARCH)
    found_level, found = diagnose(report.occurrences, event_count=report.event_count)
    assert found_level == level
    assert "availability_only" not in codes(found)
    assert not needs_fix(found)


def test_limited_details_is_reported_as_the_recommended_level() -> None:
    report = read_fixture("diag_limited.ics", *MARCH)
    _, found = diagnose(report.occurrences, event_count=report.event_count)
    assert codes(found) == ["limited_details"]
    assert found[0].severity == "info"
    assert "recommended" in found[0].message


def test_private_events_are_counted() -> None:
    report = read_fixture("diag_private.ics", *MARCH)
    _, found = diagnose(report.occurrences, event_count=report.event_count)
    private = [d for d in found if d.code == "private_events"]
    assert len(private) == 1 and private[0].message.startswith("2 event(s)")


def test_empty_calendar_is_a_warning() -> None:
    report = read_fixture("diag_empty.ics", *MARCH)
    level, found = diagnose(report.occurrences, event_count=report.event_count)
    assert level == "unknown"
    assert codes(found) == ["empty_calendar"]
    assert needs_fix(found)


def test_events_outside_the_window_are_not_an_empty_calendar() -> None:
    report = read_fixture("diag_limited.ics", date(2020, 1, 1), date(2020, 2, 1))
    level, found = diagnose(report.occurrences, event_count=report.event_count)
    assert level == "unknown"
    assert codes(found) == ["no_events_in_window"]
    assert not needs_fix(found)


# --- the rules, on hand-made occurrences -----------------------------------------


def test_a_single_busy_meeting_among_real_ones_is_not_availability_only() -> None:
    meetings = [occ("Busy", n=0)] + [occ(f"Planning {i}", n=i) for i in range(1, 8)]
    assert detect_detail_level(meetings) == "limited"


def test_busy_word_that_disagrees_with_busy_status_is_a_real_subject() -> None:
    # A meeting really called "Free" that blocks the time is not a busy-state title.
    assert not is_availability_only([occ("Free", "BUSY"), occ("Busy", "BUSY", n=1)])


def test_busy_words_without_busy_status_count_google_style() -> None:
    assert is_availability_only([occ("Busy", None, n=i) for i in range(3)])


def test_any_location_means_subjects_are_real() -> None:
    busy = [occ("Busy", n=i) for i in range(6)] + [occ("Busy", n=7, location="Room 1")]
    assert not is_availability_only(busy)


def test_cancelled_instances_are_ignored_for_the_level() -> None:
    busy = [occ("Busy", n=i) for i in range(3)] + [occ("Board meeting", n=4, cancelled=True)]
    assert detect_detail_level(busy) == "availability_only"


def test_structure_needs_subjects_in_lock_step_with_busy_status() -> None:
    # Unlisted words, but "Varattu" appears as both BUSY and TENTATIVE: not a state word.
    events = [occ("Varattu", "BUSY", n=i) for i in range(4)] + [
        occ("Varattu", "TENTATIVE", n=5),
        occ("Vapaa", "FREE", n=6),
    ]
    assert not is_availability_only(events)
    events[4] = occ("Alustava", "TENTATIVE", n=5)
    assert is_availability_only(events)


def test_structure_needs_enough_distinct_events() -> None:
    few = [occ("Varattu", "BUSY", n=i) for i in range(3)] + [occ("Vapaa", "FREE", n=4)]
    assert not is_availability_only(few)


def test_recurring_series_alone_is_not_a_busy_state_structure() -> None:
    standup = [occ("Standup", "BUSY", uid="standup", n=i) for i in range(20)]
    lunch = [occ("Lunch", "FREE", uid="lunch", n=i) for i in range(20)]
    assert detect_detail_level(standup + lunch) == "limited"


def test_descriptions_mean_full_details() -> None:
    events = [occ("Planning", description="Agenda: …"), occ("Review", n=1)]
    assert detect_detail_level(events) == "full"


def test_all_private_events_leave_the_level_unknown_but_say_why() -> None:
    events = [occ("Private Appointment", private=True, n=i) for i in range(3)]
    level, found = diagnose(events, event_count=3)
    assert level == "unknown"
    assert codes(found) == ["private_events"]


def test_private_events_are_not_reported_in_an_availability_only_feed() -> None:
    events = [occ("Busy", n=i) for i in range(3)] + [occ("Busy", private=True, n=4)]
    _, found = diagnose(events, event_count=4)
    assert codes(found) == ["availability_only"]


def test_parse_diagnostics_pass_through_and_own_codes_are_not_doubled() -> None:
    parse = [
        Diagnostic("series_skipped", "warning", "Bad RRULE in 'Weekly'", uid="u1"),
        Diagnostic("timezone_guessed", "warning", "'Customized Time Zone' read as Europe/Prague"),
        Diagnostic("limited_details", "info", "stale level from an earlier pass"),
    ]
    _, found = diagnose(
        [occ("Planning", location="Room 1")], event_count=1, parse_diagnostics=parse
    )
    assert codes(found) == ["series_skipped", "timezone_guessed", "limited_details"]
    assert found[0] is parse[0] and found[2] is not parse[2]


# --- staleness -------------------------------------------------------------------

NOW = datetime(2024, 3, 20, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_change", "past", "stale"),
    [
        (NOW - timedelta(days=8), 12, True),
        (NOW - timedelta(days=7), 12, True),
        (NOW - timedelta(days=6, hours=23), 12, False),
        (NOW - timedelta(days=30), 0, False),  # nothing in it: nothing to go stale
        (None, 12, False),  # never refreshed
    ],
)
def test_is_stale(last_change: datetime | None, past: int, stale: bool) -> None:
    assert is_stale(last_change, NOW, past) is stale


def test_is_stale_threshold_is_configurable() -> None:
    assert not is_stale(NOW - timedelta(days=8), NOW, 5, days=14)


def test_a_flood_of_one_finding_is_capped_with_a_count() -> None:
    """10,000 broken events must not become 10,000 lines on the feed page."""
    from app.feeds.diagnose import MAX_PER_CODE, diagnose
    from app.feeds.types import Diagnostic

    flood = [
        Diagnostic("series_skipped", "warning", f"Event {i} skipped", f"u{i}") for i in range(500)
    ]
    other = Diagnostic("timezone_guessed", "info", "guessed")
    _, found = diagnose([], event_count=500, parse_diagnostics=[*flood, other])
    skipped = [d for d in found if d.code == "series_skipped"]
    assert len(skipped) == MAX_PER_CODE + 1
    assert skipped[-1].message == f"…and {500 - MAX_PER_CODE} more findings like this one."
    assert other in found
