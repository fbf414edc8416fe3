"""Date ranges: presets seen from a given day, and custom-range validation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.errors import ValidationError
from app.reports.periods import (
    MAX_DAYS,
    Period,
    custom_period,
    neighbour,
    preset_period,
    resolve_period,
)

MONDAY, SUNDAY = 0, 6
WEDNESDAY_4_MARCH = date(2026, 3, 4)


@pytest.mark.parametrize(
    ("preset", "first_weekday", "first", "last"),
    [
        ("this_week", MONDAY, date(2026, 3, 2), date(2026, 3, 8)),
        ("this_week", SUNDAY, date(2026, 3, 1), date(2026, 3, 7)),
        ("last_week", MONDAY, date(2026, 2, 23), date(2026, 3, 1)),
        ("last_week", SUNDAY, date(2026, 2, 22), date(2026, 2, 28)),
        ("this_month", MONDAY, date(2026, 3, 1), date(2026, 3, 31)),
        ("last_month", SUNDAY, date(2026, 2, 1), date(2026, 2, 28)),
    ],
)
def test_presets_from_a_wednesday(preset: str, first_weekday: int, first: date, last: date) -> None:
    period = preset_period(preset, WEDNESDAY_4_MARCH, first_weekday)
    assert (period.first, period.last) == (first, last)
    assert period.preset == preset


def test_on_a_sunday_the_week_depends_on_the_users_first_weekday() -> None:
    sunday = date(2026, 3, 8)
    assert preset_period("this_week", sunday, SUNDAY).first == date(2026, 3, 8)
    assert preset_period("this_week", sunday, MONDAY).first == date(2026, 3, 2)
    assert preset_period("this_week", sunday, MONDAY).last == sunday


def test_last_month_in_january_is_last_years_december() -> None:
    period = preset_period("last_month", date(2026, 1, 15), MONDAY)
    assert (period.first, period.last) == (date(2025, 12, 1), date(2025, 12, 31))


def test_leap_february() -> None:
    period = preset_period("this_month", date(2028, 2, 10), MONDAY)
    assert period.last == date(2028, 2, 29)
    assert len(period.days) == 29


def test_default_is_this_week_and_dates_alone_mean_custom() -> None:
    assert resolve_period(None, None, None, WEDNESDAY_4_MARCH, MONDAY).preset == "this_week"
    period = resolve_period(None, "2026-01-01", "2026-01-31", WEDNESDAY_4_MARCH, MONDAY)
    assert (period.preset, len(period.days)) == ("custom", 31)


def test_custom_single_day_and_a_full_year() -> None:
    assert custom_period("2026-03-29", "2026-03-29").days == [date(2026, 3, 29)]
    assert len(custom_period("2024-01-01", "2024-12-31").days) == MAX_DAYS


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "field", "words"),
    [
        ("2026-03-10", "2026-03-09", "to", "on or after the start"),
        ("2025-01-01", "2026-01-02", "to", "at most 366 days"),
        ("", "2026-03-09", "from", "start date as YYYY-MM-DD"),
        ("2026-03-01", "31/03/2026", "to", "end date as YYYY-MM-DD"),
        ("2026-02-30", "2026-03-01", "from", "YYYY-MM-DD"),
    ],
)
def test_bad_custom_ranges_are_refused_with_a_clear_message(
    raw_from: str, raw_to: str, field: str, words: str
) -> None:
    with pytest.raises(ValidationError) as info:
        resolve_period("custom", raw_from, raw_to, WEDNESDAY_4_MARCH, MONDAY)
    assert info.value.field == field
    assert words in info.value.message


def test_unknown_preset_is_refused() -> None:
    with pytest.raises(ValidationError):
        resolve_period("fortnight", None, None, WEDNESDAY_4_MARCH, MONDAY)


def test_bounds_are_local_midnights_across_dst() -> None:
    prague = ZoneInfo("Europe/Prague")
    start, end = Period("custom", date(2026, 3, 29), date(2026, 3, 29)).bounds(prague)
    assert start == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 22, tzinfo=UTC)
    start, end = Period("custom", date(2026, 10, 25), date(2026, 10, 25)).bounds(prague)
    assert (end - start).total_seconds() == 25 * 3600


@pytest.mark.parametrize(
    ("first", "last", "step", "expected"),
    [
        ("2026-03-01", "2026-03-31", -1, ("2026-02-01", "2026-02-28")),
        ("2026-01-01", "2026-01-31", -1, ("2025-12-01", "2025-12-31")),
        ("2026-01-01", "2026-03-31", 1, ("2026-04-01", "2026-06-30")),
        ("2026-03-02", "2026-03-08", 1, ("2026-03-09", "2026-03-15")),
        ("2026-03-10", "2026-03-12", -1, ("2026-03-07", "2026-03-09")),
    ],
)
def test_previous_and_next_period(
    first: str, last: str, step: int, expected: tuple[str, str]
) -> None:
    shifted = neighbour(custom_period(first, last), step)
    assert (shifted.first.isoformat(), shifted.last.isoformat()) == expected
