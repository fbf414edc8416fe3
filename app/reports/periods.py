"""Which local days a report covers: the presets and a validated custom range.

A period is a pair of local dates, both included. Turning it into UTC
instants happens at the user's local midnights (``bounds``), so a report
over a DST change covers a 23- or 25-hour day exactly like the timesheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app import timeutil
from app.errors import ValidationError

PRESETS = {
    "this_week": "This week",
    "last_week": "Last week",
    "this_month": "This month",
    "last_month": "Last month",
    "custom": "Custom",
}
# A year and a leap day: enough for "last year", small enough to stay quick.
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    """Local dates ``first`` … ``last`` (inclusive), named by its preset."""

    preset: str
    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as UTC instants: local midnight before ``first`` and after ``last``."""
        return (
            timeutil.local_midnight(self.first, tz),
            timeutil.local_midnight(self.last + timedelta(days=1), tz),
        )


def _add_months(day: date, months: int) -> date:
    """The first of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def neighbour(period: Period, step: int) -> Period:
    """The period just before (``step`` -1) or after (+1), as a custom range.

    Whole calendar months step by months (March → February, not 31 days
    back); anything else steps by its own length.
    """
    if period.first.day == 1 and (period.last + timedelta(days=1)).day == 1:
        months = (period.last.year - period.first.year) * 12 + period.last.month
        months -= period.first.month - 1
        first = _add_months(period.first, step * months)
        return Period("custom", first, _add_months(first, months) - timedelta(days=1))
    length = timedelta(days=len(period.days) * step)
    return Period("custom", period.first + length, period.last + length)


def _month(first: date) -> tuple[date, date]:
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def preset_period(preset: str, today: date, first_weekday: int) -> Period:
    """The dates of a preset seen from ``today``; ``first_weekday`` 0 = Monday … 6 = Sunday."""
    if preset in ("this_week", "last_week"):
        first = timeutil.week_start(today, first_weekday)
        if preset == "last_week":
            first -= timedelta(days=7)
        return Period(preset, first, first + timedelta(days=6))
    if preset in ("this_month", "last_month"):
        first = today.replace(day=1)
        if preset == "last_month":
            first = (first - timedelta(days=1)).replace(day=1)
        return Period(preset, *_month(first))
    raise ValidationError("Choose this week, last week, this month, last month or custom.", "range")


def _parse_day(raw: str | None, field: str, label: str) -> date:
    try:
        return date.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationError(f"Enter the {label} date as YYYY-MM-DD.", field) from None


def custom_period(raw_from: str | None, raw_to: str | None) -> Period:
    """A user-chosen range; refuses a missing date, an end before the start, over a year."""
    first = _parse_day(raw_from, "from", "start")
    last = _parse_day(raw_to, "to", "end")
    if last < first:
        raise ValidationError("The end date must be on or after the start date.", "to")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationError(f"A report covers at most {MAX_DAYS} days; shorten the range.", "to")
    return Period("custom", first, last)


def resolve_period(
    preset: str | None, raw_from: str | None, raw_to: str | None, today: date, first_weekday: int
) -> Period:
    """The period asked for by the query string (default: this week).

    Raises ``ValidationError`` (with ``field`` set) for an unknown preset or
    a bad custom range.
    """
    preset = preset or ("custom" if raw_from or raw_to else "this_week")
    if preset == "custom":
        return custom_period(raw_from, raw_to)
    return preset_period(preset, today, first_weekday)
