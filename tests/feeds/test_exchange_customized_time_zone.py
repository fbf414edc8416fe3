"""Exchange calls many different zones "Customized Time Zone", and icalendar
caches VTIMEZONEs by TZID for the whole process: one feed must never see
another feed's zones."""

from __future__ import annotations

from datetime import UTC

from app.feeds.engine import read_calendar
from tests.feeds.helpers import occurrences, utc


def _starts_utc(data: bytes) -> dict[str, str]:
    found = occurrences(data, utc(2025, 7, 1), utc(2025, 8, 1))
    return {o.summary: o.start.astimezone(UTC).strftime("%H:%M") for o in found}  # type: ignore[union-attr]


def test_same_tzid_different_rules_in_one_process(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    berlin = calendar_bytes("exchange_custom_tz_berlin.ics")
    new_york = calendar_bytes("exchange_custom_tz_new_york.ics")
    for _ in range(2):  # in both orders, twice: nothing may stick
        assert _starts_utc(berlin) == {"Planning Berlin": "08:00", "Odd offset": "06:43"}
        assert _starts_utc(new_york) == {"Planning New York": "14:00", "Odd offset": "16:42"}


def test_customized_zone_is_reported_as_guessed(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    parsed = read_calendar(calendar_bytes("exchange_custom_tz_new_york.ics"))
    mappings = {m.tzid: (m.zone, m.how) for m in parsed.timezones}
    assert mappings["Customized Time Zone"] == ("America/New_York", "guessed")
    # No IANA zone is at -06:42: the VTIMEZONE is kept, under a per-feed id.
    assert mappings["Customized Time Zone 1"] == (None, "vtimezone")
    assert any(d.code == "timezone_guessed" for d in parsed.diagnostics)
