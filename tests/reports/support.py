"""Helpers shared by the report tests: Prague wall-clock times and loading a report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.entries.service import entries_between
from app.reports.periods import Period
from app.reports.totals import Report, build_report

PRAGUE = ZoneInfo("Europe/Prague")


def prague(*args: int, fold: int = 0) -> datetime:
    """A Prague wall-clock time as an aware UTC instant (``fold=1``: the repeated hour)."""
    return datetime(*args, tzinfo=PRAGUE, fold=fold).astimezone(UTC)  # type: ignore[misc]


def period(first: str, last: str) -> Period:
    return Period("custom", date.fromisoformat(first), date.fromisoformat(last))


def load_report(user_id: int, chosen: Period, now: datetime | None = None) -> Report:
    """What the reports page computes, from the database."""
    entries = entries_between(user_id, *chosen.bounds(PRAGUE))
    return build_report(entries, chosen, PRAGUE, now or datetime.now(UTC))
