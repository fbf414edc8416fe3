"""A TZID that names a Windows zone or display name, with no VTIMEZONE, must
land in that zone (with a diagnostic), not silently float."""

from __future__ import annotations

from datetime import UTC

from app.feeds.engine import read_calendar
from tests.feeds.helpers import occurrences, utc


def test_names_without_vtimezone_are_resolved(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    found = occurrences(
        calendar_bytes("exchange_windows_names_without_vtimezone.ics"),
        utc(2025, 1, 1),
        utc(2026, 1, 1),
    )
    starts = {o.uid: o.start.astimezone(UTC).strftime("%m-%d %H:%M") for o in found}  # type: ignore[union-attr]
    assert starts == {
        "win-name-1": "07-15 08:00",  # 10:00 CEST
        "win-name-2": "01-15 14:00",  # 09:00 EST
        "win-name-3": "01-15 08:00",  # 09:00 CET
        "win-name-4": "07-15 07:00",  # 09:00 CEST
        "win-name-5": "07-15 07:00",  # unknown zone: read in the reader's zone (Berlin)
    }


def test_each_guess_is_reported(calendar_bytes) -> None:  # type: ignore[no-untyped-def]
    parsed = read_calendar(calendar_bytes("exchange_windows_names_without_vtimezone.ics"))
    codes = [d.code for d in parsed.diagnostics if d.code.startswith("timezone")]
    assert codes.count("timezone_guessed") == 4
    assert codes.count("timezone_unknown") == 1
    hows = {m.how for m in parsed.timezones}
    assert hows == {"windows", "display_name", "unknown"}
