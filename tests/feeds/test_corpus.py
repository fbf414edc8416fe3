"""The shared real-world corpus through our engine.

Every file must parse and expand without an unhandled exception, and every
row of EXPECTATIONS.tsv is checked: the ``check`` column is prose, so
``CHECKS`` below translates each row into a call on our engine. PASS rows
must still pass, FAIL rows must now give ``expected``; for INFO/DIVERGES rows
the value asserted is what a person looking at Outlook would see, decided
from the calendar's own content (see the comment on each).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from app.feeds.engine import expand, inspect_calendar, read_calendar
from app.feeds.types import FeedReport, Occurrence
from tests.feeds.conftest import corpus_path

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Corpus:
    root: Path

    def report(self, path: str, start: datetime, end: datetime, tz: ZoneInfo) -> FeedReport:
        data = (self.root / path).read_bytes()
        return inspect_calendar(data, start, end, default_tz=tz)

    def occurrences(
        self, path: str, start: date, end: date, tz: str | ZoneInfo = BERLIN
    ) -> list[Occurrence]:
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        begin, finish = (_at(d, zone) for d in (start, end))
        return self.report(path, begin, finish, zone).occurrences


def _at(value: date, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    return datetime(value.year, value.month, value.day, tzinfo=tz)


def _local(o: Occurrence, tz: str) -> str:
    value = o.start
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
    return value.isoformat()


def _day(value: date | datetime) -> str:
    return value.isoformat()[:10]


def _utc_iso(value: date | datetime) -> str:
    assert isinstance(value, datetime)
    return value.astimezone(UTC).isoformat()


WIDE = (date(1990, 1, 1), date(2040, 1, 1))
Check = Callable[[Corpus], Any]

# (local_path, start of the check text) → how our engine answers it.
CHECKS: dict[tuple[str, str], Check] = {
    ("icalevents/cest_every_day_for_one_year.ics", "cest_every_day"): lambda c: len(
        c.occurrences(
            "icalevents/cest_every_day_for_one_year.ics", date(2020, 1, 1), date(2024, 12, 31)
        )
    ),
    ("icalevents/cest_every_second_day_for_one_year.ics", "cest_every_second_day"): lambda c: len(
        c.occurrences(
            "icalevents/cest_every_second_day_for_one_year.ics",
            date(2020, 1, 1),
            date(2024, 12, 31),
        )
    ),
    ("icalevents/cest_with_deleted.ics", "cest_with_deleted"): lambda c: len(
        c.occurrences("icalevents/cest_with_deleted.ics", date(2020, 1, 1), date(2024, 12, 31))
    ),
    ("icalevents/recurr_id_dtstart_missmatch.ics", "recurr_id_dtstart_missmatch"): lambda c: [
        [_local(o, "America/New_York"), o.summary]
        for o in c.occurrences(
            "icalevents/recurr_id_dtstart_missmatch.ics",
            date(2022, 3, 1),
            date(2022, 6, 30),
            "America/New_York",
        )
    ],
    ("icalevents/recurrenceid_ms.ics", "recurrenceid_ms [04-08,04-11)"): lambda c: [
        _day(o.start)
        for o in c.occurrences(
            "icalevents/recurrenceid_ms.ics", date(2021, 4, 8), date(2021, 4, 11)
        )
    ],
    ("icalevents/rrule_until_all_day_ms.ics", "rrule_until_all_day_ms 2021 count"): lambda c: len(
        c.occurrences("icalevents/rrule_until_all_day_ms.ics", date(2021, 1, 1), date(2022, 1, 1))
    ),
    ("icalevents/rrule_until_all_day_ms.ics", "rrule_until_all_day_ms first"): lambda c: _day(
        c.occurrences("icalevents/rrule_until_all_day_ms.ics", date(2021, 1, 1), date(2022, 1, 1))[
            0
        ].start
    ),
    ("icalevents/small_time_frame.ics", "small_time_frame"): lambda c: len(
        c.occurrences(
            "icalevents/small_time_frame.ics",
            datetime(2023, 5, 9, 0, 0),
            datetime(2023, 5, 9, 23, 0),
            "America/Los_Angeles",
        )
    ),
    (
        "node-ical/exchange_whole_day_moved_recurrence_offset_tz.ics",
        "exchange_whole_day_moved_offset_tz",
    ): lambda c: [
        _day(o.start)
        for o in c.occurrences(
            "node-ical/exchange_whole_day_moved_recurrence_offset_tz.ics",
            date(2026, 2, 19),
            date(2026, 3, 1),
        )
    ],
    ("node-ical/bad_ms_tz.ics", "bad_ms_tz"): lambda c: [
        _utc_iso(getattr(first, name))
        for first in c.occurrences("node-ical/bad_ms_tz.ics", *WIDE)[:1]
        for name in ("start", "end")
    ],
    ("node-ical/vtimezone-year-0001-dtstart.ics", "vtimezone-year-0001"): lambda c: _utc_iso(
        c.occurrences("node-ical/vtimezone-year-0001-dtstart.ics", *WIDE)[0].start
    ),
    ("node-ical/exchange-custom-tz.ics", "exchange-custom-tz"): lambda c: str(
        c.occurrences("node-ical/exchange-custom-tz.ics", *WIDE)[0].start.utcoffset()  # type: ignore[union-attr]
    ),
    ("node-ical/ms_timezones.ics", "ms_timezones Jira event start"): lambda c: next(
        [s.year, s.month, s.hour]
        for o in c.occurrences("node-ical/ms_timezones.ics", *WIDE)
        if o.summary == "Log Yesterday's Jira time"
        for s in [o.start.astimezone(UTC)]  # type: ignore[union-attr]
    ),
    ("node-ical/ms_timezones.ics", "ms_timezones r-i-e expansion 2020"): lambda c: _no_error(
        c, "node-ical/ms_timezones.ics", date(2020, 1, 1), date(2021, 1, 1)
    ),
    ("ical/office_365_extended_timezone.ics", "office_365_extended_timezone"): lambda c: _utc_iso(
        c.occurrences("ical/office_365_extended_timezone.ics", *WIDE)[0].start
    ),
    # "Floating" in our engine means: read in the reader's zone (HA renders
    # it in its local zone too). 14:00 wall clock in whatever zone we read in.
    ("ical/office_365_invalid_timezone.ics", "office_365_invalid_timezone"): lambda c: _floating(
        c, "ical/office_365_invalid_timezone.ics"
    ),
    ("home-assistant-core/office365_invalid_tzid.ics", "HA office365_invalid_tzid"): lambda c: (
        _floating(c, "home-assistant-core/office365_invalid_tzid.ics")
    ),
    ("python-recurring-ical-events/issue_27_t1.ics", "issue_27_t1"): lambda c: len(
        c.occurrences(
            "python-recurring-ical-events/issue_27_t1.ics", date(2020, 4, 25), date(2020, 4, 30)
        )
    ),
    ("python-recurring-ical-events/issue_27_t2.ics", "issue_27_t2"): lambda c: len(
        c.occurrences(
            "python-recurring-ical-events/issue_27_t2.ics", date(2020, 4, 25), date(2020, 4, 30)
        )
    ),
    ("python-recurring-ical-events/Germany.ics", "Germany at"): lambda c: [
        o.summary
        for o in c.occurrences(
            "python-recurring-ical-events/Germany.ics", date(2014, 5, 11), date(2014, 5, 12)
        )
    ],
    ("python-recurring-ical-events/issue_107_omitting_last_event.ics", "issue_107"): lambda c: (
        {
            "2023-06-01",
            "2023-06-08",
        }
        <= {
            _day(o.start)
            for o in c.occurrences(
                "python-recurring-ical-events/issue_107_omitting_last_event.ics",
                date(2023, 1, 30),
                date(2023, 1, 30) + timedelta(days=365),
                "America/Los_Angeles",
            )
        }
    ),
    ("python-recurring-ical-events/issue_4_weidenrinde.ics", "issue_4_weidenrinde"): lambda c: len(
        c.occurrences("python-recurring-ical-events/issue_4_weidenrinde.ics", *WIDE)
    ),
    ("ical.net/Bug2959692.ics", "Bug2959692"): lambda c: [
        _local(o, "Europe/Warsaw")
        for o in c.occurrences(
            "ical.net/Bug2959692.ics", date(2008, 1, 1), date(2008, 4, 1), "Europe/Warsaw"
        )
    ],
    ("ical.net/Bug2966236.ics", "Bug2966236"): lambda c: [
        _local(o, "Asia/Shanghai")
        for o in c.occurrences(
            "ical.net/Bug2966236.ics", date(2010, 1, 1), date(2010, 3, 1), "Asia/Shanghai"
        )
    ],
    ("ical.net/Outlook2007LineFolds.ics", "Outlook2007LineFolds 2009"): lambda c: len(
        c.occurrences(
            "ical.net/Outlook2007LineFolds.ics",
            date(2009, 6, 20),
            date(2009, 6, 22),
            "America/New_York",
        )
    ),
    ("ical.net/Outlook2007LineFolds.ics", "Outlook2007LineFolds LOCATION"): lambda c: (
        c.occurrences("ical.net/Outlook2007LineFolds.ics", *WIDE)[0].location
    ),
    # INFO: the VTIMEZONE contradicts itself (CET names, a STANDARD ending at
    # +01:00 followed by a DAYLIGHT starting from +12:00) while its TZID is
    # the Windows id "New Zealand Standard Time": Outlook maps Windows ids by
    # name, so the event is at 13:00 New Zealand daylight time (+13:00).
    ("khal/tz_windows_format.ics", "tz_windows_format"): lambda c: str(
        c.occurrences("khal/tz_windows_format.ics", *WIDE)[0].start.utcoffset()  # type: ignore[union-attr]
    ),
    # DIVERGES: the DTSTART is floating (no TZID). RFC 5545 and Outlook show a
    # floating time at the same wall-clock time wherever the reader is, so it
    # stays 10:00 in the reader's zone; node-ical's 08:00Z comes from applying
    # an unrelated VTIMEZONE of the file.
    ("node-ical/dst-transition-rules.ics", "dst-transition-rules"): lambda c: [
        _local(o, "Asia/Tokyo")
        for o in c.occurrences("node-ical/dst-transition-rules.ics", *WIDE, "Asia/Tokyo")
    ],
    # INFO: TZID " 1" is defined by its own VTIMEZONE with Central European
    # rules, so 11:00 there is 10:00 UTC (the plain libraries left it floating).
    ("node-ical/test_with_int_tzid.ics", "test_with_int_tzid"): lambda c: [
        _utc_iso(o.start)
        for o in c.occurrences("node-ical/test_with_int_tzid.ics", *WIDE)
        if o.uid.startswith("040000008200E")
    ],
    ("python-recurring-ical-events/issue_18_cancel_status.ics", "issue_18"): lambda c: [
        next(
            (
                o.status
                for o in c.occurrences(
                    "python-recurring-ical-events/issue_18_cancel_status.ics",
                    date(2020, 1, day_),
                    date(2020, 1, day_ + 1),
                )
            ),
            "missing",
        )
        for day_ in (28, 29, 30)
    ],
    ("node-ical/bad_custom_ms_tz.ics", "node-ical/bad_custom_ms_tz.ics r-i-e"): lambda c: _no_error(
        c, "node-ical/bad_custom_ms_tz.ics", *WIDE
    ),
    ("icalendar/issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics", "issue_237"): lambda c: (
        c.occurrences("icalendar/issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics", *WIDE)[
            0
        ].start.isoformat()
    ),
    ("icalevents/recurrenceid_ms.ics", "recurrenceid_ms [2021-01-01,2022-01-01)"): lambda c: len(
        c.occurrences("icalevents/recurrenceid_ms.ics", date(2021, 1, 1), date(2022, 1, 1))
    ),
    ("icalevents/recurrenceid_ms.ics", "recurrenceid_ms last occurrence"): lambda c: _day(
        c.occurrences("icalevents/recurrenceid_ms.ics", *WIDE)[-1].start
    ),
    ("icalevents/recurrence_tz.ics", "recurrence_tz"): lambda c: [
        _local(o, "Australia/Sydney")
        for o in c.occurrences(
            "icalevents/recurrence_tz.ics",
            date(2021, 10, 24),
            date(2021, 10, 26),
            "Australia/Sydney",
        )
    ],
    # INFO: with the quoted DTSTART repaired, the Jira series is kept too.
    ("node-ical/ms_timezones.ics", "node-ical/ms_timezones.ics with skip_bad_series"): lambda c: (
        len(c.occurrences("node-ical/ms_timezones.ics", date(2020, 1, 1), date(2021, 1, 1)))
    ),
    # INFO: all three events survive (the negative DURATION is ignored).
    ("node-ical/bad_custom_ms_tz.ics", "node-ical/bad_custom_ms_tz.ics with skip_bad"): lambda c: (
        len(c.occurrences("node-ical/bad_custom_ms_tz.ics", date(2021, 1, 1), date(2022, 1, 1)))
    ),
    ("ical/apple_ical.ics", "apple_ical first 5"): lambda c: [
        [_local(o, "America/Los_Angeles"), o.summary]
        for o in c.occurrences("ical/apple_ical.ics", *WIDE, "America/Los_Angeles")[:5]
    ],
    ("ical/google_calendar_invalid_offset.ics", "google_invalid_offset first 5"): lambda c: [
        _local(o, "America/Argentina/Buenos_Aires")
        for o in c.occurrences("ical/google_calendar_invalid_offset.ics", *WIDE)[:5]
    ],
    ("ical/google_calendar_invalid_offset.ics", "google_invalid_offset 02-08"): lambda c: [
        o.start
        for o in c.occurrences(
            "ical/google_calendar_invalid_offset.ics",
            date(2003, 2, 8),
            date(2003, 2, 10),
            "America/Argentina/Buenos_Aires",
        )
    ],
    ("ical/recurring_with_single_change.ics", "recurring_with_single_change"): lambda c: [
        [_local(o, "America/New_York"), o.summary]
        for o in c.occurrences("ical/recurring_with_single_change.ics", *WIDE)[:3]
    ],
    ("icalevents/google_2024.ics", "google_2024"): lambda c: next(
        [o.start.astimezone(UTC).hour, o.start.tzname()]  # type: ignore[union-attr]
        for o in c.occurrences("icalevents/google_2024.ics", date(2024, 1, 1), date(2025, 1, 1))
        if not o.all_day
    ),
    (
        "node-ical/whole_day_moved_over_dst_change_berlin.ics",
        "whole_day_moved_over_dst",
    ): lambda c: any(
        o.all_day and o.start == date(2024, 10, 30) and o.end == date(2024, 10, 31)
        for o in c.occurrences("node-ical/whole_day_moved_over_dst_change_berlin.ics", *WIDE)
    ),
    ("icalevents/floating.ics", "floating.ics"): lambda c: _floating_ics(c),
}

# Values decided for INFO/DIVERGES rows (their ``expected`` column is "n/a").
DECIDED: dict[tuple[str, str], Any] = {
    ("khal/tz_windows_format.ics", "tz_windows_format"): "13:00:00",
    ("node-ical/dst-transition-rules.ics", "dst-transition-rules"): ["2022-10-09T10:00"],
    ("node-ical/test_with_int_tzid.ics", "test_with_int_tzid"): ["2024-01-08T10:00:00+00:00"],
    ("node-ical/ms_timezones.ics", "node-ical/ms_timezones.ics with skip_bad_series"): 275,
    ("node-ical/bad_custom_ms_tz.ics", "node-ical/bad_custom_ms_tz.ics with skip_bad"): 3,
}


def _no_error(c: Corpus, path: str, start: date, end: date) -> str:
    report = c.report(path, _at(start, BERLIN), _at(end, BERLIN), BERLIN)
    skipped = [d.message for d in report.diagnostics if d.code == "series_skipped"]
    return "no error" if not skipped and report.occurrences else f"ERROR {skipped}"


def _floating(c: Corpus, path: str) -> bool:
    regina = ZoneInfo("America/Regina")
    (found,) = c.occurrences(path, *WIDE, regina)
    return found.start == datetime(2024, 4, 26, 14, tzinfo=regina)


def _floating_ics(c: Corpus) -> list[Any]:
    found = c.occurrences("icalevents/floating.ics", *WIDE)
    timed = next(o for o in found if not o.all_day)
    all_day = next(o for o in found if o.all_day)
    hours = [timed.start.astimezone(UTC).hour, timed.end.astimezone(UTC).hour]  # type: ignore[union-attr]
    return [hours, _day(all_day.start)]


def _rows(root: Path) -> list[dict[str, str]]:
    with (root / "EXPECTATIONS.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _key(row: dict[str, str]) -> tuple[str, str]:
    check = row[next(k for k in row if k.startswith("check"))]
    matches = [key for key in CHECKS if key[0] == row["local_path"] and check.startswith(key[1])]
    assert len(matches) == 1, f"no single check for {row['local_path']}: {check}"
    return matches[0]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise over the corpus found through --ics-corpus / the env var."""
    root = corpus_path(metafunc.config)
    present = (root / "EXPECTATIONS.tsv").is_file()
    if "index" in metafunc.fixturenames:
        count = len(_rows(root)) if present else 1
        metafunc.parametrize("index", range(count), ids=lambda i: f"row{i + 2}")
    if "path" in metafunc.fixturenames:
        metafunc.parametrize("path", _corpus_files(root) if present else ["(corpus absent)"])


def test_every_row_has_a_check(ics_corpus: Path) -> None:
    rows = _rows(ics_corpus)
    assert len(rows) == 44
    assert {_key(row) for row in rows} == set(CHECKS)


def test_expectation_row(index: int, ics_corpus: Path) -> None:
    row = _rows(ics_corpus)[index]
    key = _key(row)
    got = CHECKS[key](Corpus(ics_corpus))
    expected: Any
    if key in DECIDED:
        expected = DECIDED[key]
    elif row["status"].startswith("FAIL(inferred)"):
        expected = "2021-07-02"  # the row's prose: the last day is 2021-07-02
    else:
        expected = json.loads(row["expected (from the source test, translated)"])
    assert got == expected, f"{row['status']} {row['local_path']}: {key[1]}"


def _corpus_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.ics"))


def test_every_file_parses_and_expands(path: str, ics_corpus: Path) -> None:
    data = (ics_corpus / path).read_bytes()
    parsed = read_calendar(data)
    now = datetime.now(UTC)
    expand(parsed, now - timedelta(days=90), now + timedelta(days=30), default_tz=BERLIN)
    wide = expand(parsed, _at(WIDE[0], UTC), _at(WIDE[1], UTC), default_tz=ZoneInfo("UTC"))
    assert parsed.event_count == 0 or wide or parsed.diagnostics
