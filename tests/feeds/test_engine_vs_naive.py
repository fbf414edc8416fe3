"""Our engine yields the same occurrences as the plain libraries
(icalendar + recurring-ical-events) wherever those are right.

Where they are not, the difference is listed and asserted exactly: Exchange's
all-day UNTIL (the plain path loses the last day), events without UID (we
give them a stable one), a Windows display-name TZID without VTIMEZONE (the
plain path floats it), and properties the plain path cannot read at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.feeds.engine import expand, read_calendar
from bench.generate import FeedSpec, generate_feed, window
from tests.feeds.conftest import corpus_path
from tests.feeds.naive import naive_key, naive_occurrences, our_key

UTC_ZONE = ZoneInfo("UTC")


def _ours(data: bytes, start: datetime, end: datetime) -> set[tuple[str, str, str, str]]:
    found = expand(read_calendar(data), start, end, default_tz=UTC_ZONE)
    # Floating times: the plain path keeps them naive; compare wall clocks too.
    return {our_key(o) for o in found} | {our_key(o, floating=True) for o in found}


def _naive(data: bytes, start: datetime, end: datetime) -> set[tuple[str, str, str, str]]:
    return {naive_key(e) for e in naive_occurrences(data, start, end)}


@pytest.mark.parametrize(("events", "seed"), [(60, 1), (300, 2), (300, 3)])
def test_generated_feeds_match(events: int, seed: int) -> None:
    spec = FeedSpec(events, seed=seed, exchange_all_day_until=False, description_size=80)
    data = generate_feed(spec)
    start, end = window(spec)
    naive = _naive(data, start, end)
    ours = expand(read_calendar(data), start, end, default_tz=UTC_ZONE)
    assert naive, "the generated window should not be empty"
    assert {our_key(o) for o in ours} == naive
    assert len(ours) == len(naive)


def test_generated_exchange_all_day_until_keeps_only_the_last_days_more() -> None:
    spec = FeedSpec(400, seed=5, exchange_all_day_until=True, description_size=80)
    data = generate_feed(spec)
    start, end = window(spec)
    start, end = start - timedelta(days=4 * 365), end + timedelta(days=400)  # all of it
    naive = _naive(data, start, end)
    ours = {our_key(o) for o in expand(read_calendar(data), start, end, default_tz=UTC_ZONE)}
    assert naive <= ours
    extra = ours - naive
    assert extra, "some all-day series should end in the window"
    assert all(len(key[1]) == 10 for key in extra)  # all-day dates only


# file → (reason, how our result relates to the plain one)
DIVERGES = {
    "icalevents/recurrenceid_ms.ics": "Exchange all-day UNTIL: we keep 2021-07-02",
    "icalevents/no_uid.ics": "no UID: we give a stable one",
    "icalendar/issue_237_fail_to_parse_timezone_with_non_ascii_tzid.ics": "no UID",
    "python-recurring-ical-events/issue_107_omitting_last_event.ics": "no UID",
    "node-ical/windows-quoted-tz-rrule.ics": "display-name TZID without VTIMEZONE: not floating",
    "node-ical/ms_timezones.ics": "the plain path raises (quoted DTSTART)",
    "node-ical/bad_custom_ms_tz.ics": "the plain path raises (negative week DURATION)",
    # The plain path reads this undefined "Customized Time Zone" with whatever
    # VTIMEZONE of that name another file put in icalendar's process-wide
    # cache; we read it as floating (14:00 wherever the reader is).
    "home-assistant-core/office365_invalid_tzid.ics": "process-wide zone cache",
    "ical/office_365_invalid_timezone.ics": "process-wide zone cache",
}


def _corpus_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.ics"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "corpus_file" in metafunc.fixturenames:
        root = corpus_path(metafunc.config)
        files = _corpus_files(root) if root.is_dir() else ["(corpus absent)"]
        metafunc.parametrize("corpus_file", files)


def test_corpus_file_matches(corpus_file: str, ics_corpus: Path) -> None:
    data = (ics_corpus / corpus_file).read_bytes()
    start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)
    ours = _ours(data, start, end)
    if corpus_file == "icalevents/recurrenceid_ms.ics":
        extra = {key[1] for key in ours - _naive(data, start, end)}
        assert extra == {"2021-07-02"}
    elif corpus_file in ("node-ical/ms_timezones.ics", "node-ical/bad_custom_ms_tz.ics"):
        assert ours  # the plain path cannot expand these at all
    elif DIVERGES.get(corpus_file) == "no UID" or corpus_file == "icalevents/no_uid.ics":
        without_uid = {key[1:] for key in ours}
        assert {key[1:] for key in _naive(data, start, end)} <= without_uid
    elif corpus_file == "node-ical/windows-quoted-tz-rrule.ics":
        naive = _naive(data, start, end)
        shifted = {(k[0], k[3]) for k in naive}
        assert {(k[0], k[3]) for k in ours} == shifted  # same events, honest zone
        assert len({k for k in ours if "floating" not in k[1]}) == len(naive)
    elif DIVERGES.get(corpus_file) == "process-wide zone cache":
        assert [k[1] for k in ours if "floating" in k[1]] == ["2024-04-26T14:00:00 floating"]
    else:
        assert _naive(data, start, end) <= ours
        assert len({k for k in ours if "floating" not in k[1]}) == len(_naive(data, start, end))


def test_ingest_benchmark_measures_both_paths(tmp_path: Path) -> None:
    from bench.ingest import measure

    feed = tmp_path / "feed.ics"
    feed.write_bytes(generate_feed(FeedSpec(40, description_size=40)))
    naive, ours = measure("naive", feed, 40), measure("ours", feed, 40)
    assert naive["occurrences"] <= ours["occurrences"]
    assert ours["seconds"] > 0 and "fingerprint_seconds" in ours
