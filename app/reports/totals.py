"""Report totals: pure functions over time entries.

Every figure is computed the way the timesheet computes its day totals
(``app.entries.service.totals_by_day``): an entry is split at the user's local
midnights, so an entry crossing midnight counts on both days, and a DST day
has 23 or 25 hours. Entries are clipped to the period at its first and last
local midnight; a running entry counts up to ``now``. Nothing here touches
the database or Flask.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from app import timeutil
from app.models import TimeEntry
from app.reports.periods import Period

NO_PROJECT_COLOUR = "#9aa3b2"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ZERO = timedelta()


def safe_colour(colour: str | None) -> str:
    """A ``#rrggbb`` colour fit for an SVG ``fill``; anything else becomes grey."""
    return colour if colour and _COLOUR.match(colour) else NO_PROJECT_COLOUR


@dataclass
class ProjectLine:
    """One project's time in the period; ``project_id`` None is "no project"."""

    project_id: int | None
    name: str
    client: str
    colour: str
    billable: timedelta = ZERO
    non_billable: timedelta = ZERO

    @property
    def total(self) -> timedelta:
        return self.billable + self.non_billable


@dataclass
class Report:
    """Totals for one period. ``by_day`` has every day of the period, zeros included."""

    period: Period
    projects: list[ProjectLine] = field(default_factory=list)
    by_day: dict[date, timedelta] = field(default_factory=dict)
    # day → project_id → time; only non-zero cells are present.
    by_day_project: dict[date, dict[int | None, timedelta]] = field(default_factory=dict)
    entry_count: int = 0

    @property
    def billable(self) -> timedelta:
        return sum((p.billable for p in self.projects), ZERO)

    @property
    def non_billable(self) -> timedelta:
        return sum((p.non_billable for p in self.projects), ZERO)

    @property
    def total(self) -> timedelta:
        return sum(self.by_day.values(), ZERO)

    @property
    def busiest_day(self) -> timedelta:
        return max(self.by_day.values(), default=ZERO)


def entry_stop(entry: TimeEntry, now: datetime) -> datetime:
    """Where an entry ends; a running one counts up to ``now`` (never before its start)."""
    return entry.end or max(entry.start, now)


def clip(
    entry: TimeEntry, start: datetime, end: datetime, now: datetime
) -> tuple[datetime, datetime] | None:
    """The part of ``entry`` inside [start, end), or None when it lies outside.

    Matches ``entries_between``: an entry ending exactly at ``start`` is
    outside; a zero-length entry inside the range is in, with no time.
    """
    stop = entry_stop(entry, now)
    if entry.start >= end or stop <= start:
        return None
    return max(entry.start, start), min(stop, end)


def _project_line(entry: TimeEntry) -> ProjectLine:
    project = entry.project
    if project is None:
        return ProjectLine(None, "(no project)", "", NO_PROJECT_COLOUR)
    return ProjectLine(project.id, project.name, project.client or "", safe_colour(project.colour))


def build_report(entries: list[TimeEntry], period: Period, tz: ZoneInfo, now: datetime) -> Report:
    """Totals by project, by day, by day and project, billable or not.

    ``entries`` are the user's entries overlapping the period (any order);
    only their time inside the period counts. ``now`` ends running entries.
    """
    start, end = period.bounds(tz)
    lines: dict[int | None, ProjectLine] = {}
    by_day: dict[date, timedelta] = dict.fromkeys(period.days, ZERO)
    cells: dict[date, dict[int | None, timedelta]] = defaultdict(lambda: defaultdict(timedelta))
    count = 0
    for entry in entries:
        part = clip(entry, start, end, now)
        if part is None:
            continue
        count += 1
        line = lines.setdefault(entry.project_id, _project_line(entry))
        for day, time in timeutil.split_by_local_day(*part, tz):
            by_day[day] += time
            cells[day][entry.project_id] += time
            if entry.billable:
                line.billable += time
            else:
                line.non_billable += time
    projects = sorted(lines.values(), key=lambda p: (-p.total, p.name.casefold()))
    return Report(
        period=period,
        projects=projects,
        by_day=by_day,
        by_day_project={day: dict(cells[day]) for day in period.days if day in cells},
        entry_count=count,
    )
