"""Time entry workflows: timer, manual entries, totals.

Functions take the user and values, raise ``ValidationError`` for input that
cannot be accepted (nothing is changed then) and leave committing to the
caller.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from app import timeutil
from app.errors import ValidationError
from app.extensions import db
from app.models import Project, TimeEntry, User, utcnow
from app.projects.service import owned_project_id

# The longest entry the forms accept; also bounds how far back a week's
# query looks for entries that started earlier and run into it.
MAX_ENTRY_LENGTH = timedelta(days=7)


@dataclass(frozen=True)
class EntryInput:
    """Validated-by-type values from a form; ``end`` None means "running"."""

    start: datetime
    end: datetime | None
    description: str
    project_id: int | None
    billable: bool


def running_entry(user_id: int) -> TimeEntry | None:
    return db.session.scalar(_running_select(), {"user_id": user_id})


@functools.cache
def _running_select() -> sa.Select[tuple[TimeEntry]]:
    # Queries on every dashboard view are built once per process: building
    # one and its SQL cache key costs more than running it.
    return sa.select(TimeEntry).where(
        TimeEntry.user_id == sa.bindparam("user_id"), TimeEntry.end.is_(None)
    )


def _billable_default(project_id: int | None) -> bool:
    project = db.session.get(Project, project_id) if project_id else None
    return bool(project and project.billable_default)


def start_timer(user: User, description: str, project_raw: str | int | None) -> TimeEntry:
    if running_entry(user.id) is not None:
        raise ValidationError("A timer is already running. Stop it before starting another.")
    project_id = owned_project_id(user.id, project_raw)
    entry = TimeEntry(
        user_id=user.id,
        start=utcnow().replace(microsecond=0),
        end=None,
        description=description.strip(),
        project_id=project_id,
        billable=_billable_default(project_id),
    )
    db.session.add(entry)
    return entry


def stop_timer(user: User) -> TimeEntry | None:
    entry = running_entry(user.id)
    if entry is not None:
        entry.end = max(entry.start, utcnow().replace(microsecond=0))
        entry.updated_at = utcnow()
    return entry


def save_entry(entry: TimeEntry, data: EntryInput) -> TimeEntry:
    """Apply ``data`` to ``entry`` (new or existing) after validating it."""
    if data.end is not None and data.end <= data.start:
        raise ValidationError("The end must be after the start.", field="end")
    if data.end is None and (entry.id is None or entry.end is not None):
        # Only the running timer itself may stay open-ended.
        raise ValidationError("Give the entry an end or a duration.", field="end")
    if data.end is None and data.start > utcnow():
        raise ValidationError("A running timer cannot start in the future.", field="start")
    project_id = owned_project_id(entry.user_id, data.project_id)
    entry.start, entry.end = data.start, data.end
    entry.description, entry.project_id = data.description.strip(), project_id
    entry.billable, entry.updated_at = data.billable, utcnow()
    db.session.add(entry)
    return entry


def duplicate_entry(entry: TimeEntry) -> TimeEntry:
    """A copy of a finished entry placed right after it."""
    if entry.end is None:
        raise ValidationError("A running entry cannot be duplicated; stop it first.")
    length = entry.end - entry.start
    copy = TimeEntry(
        user_id=entry.user_id,
        project_id=entry.project_id,
        description=entry.description,
        billable=entry.billable,
        start=entry.end,
        end=entry.end + length,
    )
    db.session.add(copy)
    return copy


@dataclass(slots=True)
class ProjectLabel:
    """What a listed entry shows of its project."""

    name: str
    colour: str


@dataclass(slots=True)
class ListedEntry:
    """A time entry as the dashboard and the timesheet list it (``entries/_entry_rows.html``).

    Read as a plain row through the connection, not as an ORM object through the
    session: the session's ORM path cost more than the query (0.07 ms a view).
    """

    id: int
    description: str
    start: datetime
    end: datetime | None
    billable: bool
    source_change: str | None
    project: ProjectLabel | None


def entries_between(user_id: int, start: datetime, end: datetime) -> list[TimeEntry]:
    """Entries overlapping [start, end), oldest first, projects loaded."""
    params = _range_params(start, end, user_id=user_id)
    return [e for e in db.session.scalars(_entries_select(), params) if e.start < end]


def listed_between(user_id: int, start: datetime, end: datetime) -> list[ListedEntry]:
    """``entries_between`` as ``ListedEntry`` values."""
    return week_and_running(user_id, start, end)[0]


def week_and_running(
    user_id: int, start: datetime, end: datetime
) -> tuple[list[ListedEntry], ListedEntry | None]:
    """``listed_between(user_id, start, end)`` and the running timer in one query.

    The running timer overlaps the range whenever it started before ``end``, so the
    range's query already returns it; only a timer started at or after ``end`` (never,
    unless the clock or the data is off) needs the wider ``OR end IS NULL``.
    """
    rows = db.session.connection().execute(
        _listed_select(), _range_params(start, end, user_id=user_id)
    )
    entries = [
        ListedEntry(*row[:6], project=None if row[6] is None else ProjectLabel(*row[6:]))
        for row in rows
    ]
    running = next((entry for entry in entries if entry.end is None), None)
    return [entry for entry in entries if entry.start < end], running


def _range_params(start: datetime, end: datetime, **params: object) -> dict[str, object]:
    # Finished entries last at most MAX_ENTRY_LENGTH; bounding start from
    # below lets the (user_id, start) index do the work instead of a scan.
    # The running timer has no such bound: it counts however long ago it began.
    return {"start": start, "end": end, "from": start - MAX_ENTRY_LENGTH, **params}


def _in_range_or_running() -> sa.ColumnElement[bool]:
    return sa.and_(
        TimeEntry.user_id == sa.bindparam("user_id"),
        sa.or_(
            TimeEntry.end.is_(None),
            sa.and_(
                TimeEntry.start < sa.bindparam("end"),
                TimeEntry.start >= sa.bindparam("from"),
                TimeEntry.end > sa.bindparam("start"),
            ),
        ),
    )


@functools.cache
def _entries_select() -> sa.Select[tuple[TimeEntry]]:
    # Queries run on every page view are built once per process: building one
    # and its SQL cache key costs more than running it.
    return (
        sa.select(TimeEntry)
        .options(so.joinedload(TimeEntry.project))
        .where(_in_range_or_running())
        .order_by(TimeEntry.start)
    )


@functools.cache
def _listed_select() -> sa.Select[Any]:
    """The columns of ``ListedEntry``, then of its ``ProjectLabel``."""
    return (
        sa.select(
            *(getattr(TimeEntry, f.name) for f in fields(ListedEntry) if f.name != "project"),
            *(getattr(Project, f.name) for f in fields(ProjectLabel)),
        )
        .outerjoin(Project, TimeEntry.project_id == Project.id)
        .where(_in_range_or_running())
        .order_by(TimeEntry.start)
    )


def entry_end(entry: TimeEntry | ListedEntry) -> datetime:
    """A running entry counts up to now."""
    return entry.end or max(entry.start, utcnow())


def entry_days(entry: TimeEntry | ListedEntry, tz: ZoneInfo) -> list[date]:
    """The local days an entry is listed on: every day it touches.

    An entry past midnight shows on both days (each day's total counts its
    part); a zero-length entry still shows on its start day, so it can be
    found and deleted.
    """
    days = [day for day, _ in timeutil.split_by_local_day(entry.start, entry_end(entry), tz)]
    return days or [entry.start.astimezone(tz).date()]


def totals_by_day(
    entries: list[TimeEntry] | list[ListedEntry], tz: ZoneInfo
) -> dict[date, timedelta]:
    """Time per local day, entries split at the user's local midnight.

    Days outside the range the entries were fetched for may appear (an entry
    that began the evening before); callers sum the days they show.
    """
    totals: dict[date, timedelta] = defaultdict(timedelta)
    for entry in entries:
        for day, part in timeutil.split_by_local_day(entry.start, entry_end(entry), tz):
            totals[day] += part
    return totals
