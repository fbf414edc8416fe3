"""Windows ids, display names and VTIMEZONE rules land in the right IANA zone."""

from __future__ import annotations

import pytest

from app.feeds.tzmap import WINDOWS_TO_IANA, normalise_tzid, zone_from_name
from app.feeds.vtimezone import match_zone, rules_agree, rules_from_lines


@pytest.mark.parametrize(
    ("tzid", "zone", "how"),
    [
        ("W. Europe Standard Time", "Europe/Berlin", "windows"),
        ("Eastern Standard Time", "America/New_York", "windows"),
        ("Pacific Standard Time:", "America/Los_Angeles", "windows"),
        ("New Zealand Standard Time", "Pacific/Auckland", "windows"),
        ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York", "display_name"),
        ("(UTC-05:00) Eastern Time (US and Canada)", "America/New_York", "display_name"),
        (
            "(GMT +01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
            "Europe/Berlin",
            "display_name",
        ),
        (
            "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
            "Europe/Berlin",
            "display_name",
        ),
        ("(UTC+07:00) Bangkok\\, Hanoi\\, Jakarta", "Asia/Bangkok", "display_name"),
        ("(UTC-03:00) Brasília", "America/Sao_Paulo", "display_name"),
        # Not in the display table: matched by a city name and the offset.
        ("(UTC+01:00) Vienna, Prague", "Europe/Vienna", "display_name"),
        ("Europe/Zurich", "Europe/Zurich", "iana"),
        ("/freeassociation.sourceforge.net/Tzfile/Europe/Berlin", "Europe/Berlin", "iana"),
        ("UTC+01", "Etc/GMT-1", "guessed"),
    ],
)
def test_names_resolve_to_iana(tzid: str, zone: str, how: str) -> None:
    assert zone_from_name(tzid) == (zone, how)


@pytest.mark.parametrize("tzid", ["Customized Time Zone", "tzone://Microsoft/Custom", " 1", ""])
def test_names_without_meaning_stay_unresolved(tzid: str) -> None:
    assert zone_from_name(tzid) is None


def test_display_name_with_wrong_offset_is_not_trusted() -> None:
    # Berlin is not at -05:00: a city alone must not win over the offset.
    assert zone_from_name("(UTC-05:00) Berlin") is None


def test_windows_table_covers_cldr() -> None:
    assert len(WINDOWS_TO_IANA) >= 135
    assert WINDOWS_TO_IANA["India Standard Time"] in ("Asia/Calcutta", "Asia/Kolkata")


def test_normalise_tzid() -> None:
    assert normalise_tzid('"(UTC+07:00) Bangkok\\, Hanoi"') == "(UTC+07:00) Bangkok, Hanoi"
    assert normalise_tzid(" 1") == "1"


EXCHANGE_EASTERN = """BEGIN:VTIMEZONE
TZID:Customized Time Zone
BEGIN:STANDARD
DTSTART:16010101T020000
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010101T020000
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE""".splitlines()


def test_customized_zone_matched_by_its_rules() -> None:
    rules = rules_from_lines(EXCHANGE_EASTERN)
    assert rules is not None and rules.consistent
    assert match_zone(rules) == "America/New_York"
    assert not rules_agree(rules, "Europe/Berlin")


def test_fixed_odd_offset_matches_nothing() -> None:
    lines = [
        ln.replace("-0400", "+0317").replace("-0500", "+0317")
        for ln in EXCHANGE_EASTERN
        if not ln.startswith("RRULE")
    ]
    rules = rules_from_lines(lines)
    assert rules is not None
    assert match_zone(rules) is None


def test_self_contradicting_vtimezone_is_flagged() -> None:
    # khal's tz_windows_format fixture style: CET offsets then NZ offsets.
    lines = """BEGIN:STANDARD
DTSTART:20191027T020000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:20200329T030000
TZOFFSETFROM:+1200
TZOFFSETTO:+1300
END:DAYLIGHT""".splitlines()
    rules = rules_from_lines(lines)
    assert rules is not None and not rules.consistent
