"""CSV export of the time entries in a report's period.

The rule that keeps the CSV and the report in agreement to the minute: one
row per entry overlapping the period, with its time *inside the period*.
An entry crossing the period's first or last local midnight is clipped to
it (its ``start``/``end`` are the clipped instants and ``note`` says
"clipped to range"), so the rows of last month and this month add up to
exactly what was tracked, with nothing counted twice. A running entry ends
"now" and is marked "running". Times are ISO 8601 in the user's zone with
their UTC offset, so a row is unambiguous across DST changes.

Cells are guarded against spreadsheet formula injection: text starting
with ``= + - @`` (or a tab / carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app import timeutil
from app.extensions import db
from app.models import Feed, Occurrence, TimeEntry
from app.reports.periods import Period
from app.reports.totals import clip

HEADER = [
    "date",
    "start",
    "end",
    "duration_hours",
    "duration_hm",
    "project",
    "client",
    "description",
    "billable",
    "source_calendar",
    "note",
]
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (OWASP CSV injection)."""
    return "'" + cell if cell.startswith(_FORMULA_PREFIXES) else cell


def hours(delta: timedelta) -> str:
    """Decimal hours with two places, e.g. ``1.75``."""
    exact = Decimal(int(delta.total_seconds())) / Decimal(3600)
    return str(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def source_calendars(entries: Iterable[TimeEntry]) -> dict[int, str]:
    """Feed name per occurrence id for the entries linked to an impulse (one query)."""
    ids = {e.occurrence_id for e in entries if e.occurrence_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Occurrence.id, Feed.name)
        .join(Feed, Feed.id == Occurrence.feed_id)
        .where(Occurrence.id.in_(ids))
    )
    return {occurrence_id: name for occurrence_id, name in rows}


def _source(entry: TimeEntry, feeds: dict[int, str]) -> str:
    snapshot = entry.source_snapshot or {}
    name = snapshot.get("feed") if isinstance(snapshot, dict) else None
    if isinstance(name, str) and name:
        return name
    return feeds.get(entry.occurrence_id, "") if entry.occurrence_id else ""


def _row(
    entry: TimeEntry, part: tuple[datetime, datetime], tz: ZoneInfo, feeds: dict[int, str]
) -> list[str]:
    start, end = (t.astimezone(tz) for t in part)
    # From the UTC instants: subtracting two times in one ZoneInfo is
    # wall-clock arithmetic and would add or lose the DST hour.
    length = part[1] - part[0]
    notes = []
    if entry.end is None:
        notes.append("running")
    if part[0] != entry.start or (entry.end is not None and part[1] != entry.end):
        notes.append("clipped to range")
    project = entry.project
    return [
        start.date().isoformat(),
        start.isoformat(timespec="seconds"),
        end.isoformat(timespec="seconds"),
        hours(length),
        timeutil.format_duration(length),
        project.name if project else "",
        (project.client or "") if project else "",
        entry.description,
        "yes" if entry.billable else "no",
        _source(entry, feeds),
        "; ".join(notes),
    ]


def export_rows(
    entries: Sequence[TimeEntry],
    period: Period,
    tz: ZoneInfo,
    now: datetime,
    feeds: dict[int, str],
) -> list[list[str]]:
    """The CSV rows (header excluded), oldest first, for entries overlapping ``period``.

    ``feeds`` maps occurrence id → feed name (``source_calendars``), used
    when an entry's snapshot does not name its calendar.
    """
    start, end = period.bounds(tz)
    rows = []
    for entry in sorted(entries, key=lambda e: (e.start, e.id or 0)):
        part = clip(entry, start, end, now)
        if part is not None:
            rows.append([neutralise(cell) for cell in _row(entry, part, tz, feeds)])
    return rows


def write_csv(rows: Iterable[Sequence[str]]) -> str:
    """CSV text with the header, starting with a BOM so Excel reads it as UTF-8."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


def filename(period: Period) -> str:
    return f"timepulse-{period.first.isoformat()}-{period.last.isoformat()}.csv"
