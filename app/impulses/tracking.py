"""Turning impulses into time entries: track, track all, dismiss and undo.

The promise "no double tracking" is kept by the database, not by a check in
Python: the impulse is claimed with a conditional UPDATE
(``… SET state='tracked' WHERE id=:id AND state != 'tracked'``) in the same
transaction as the entry's INSERT. Of two requests racing (two browser
tabs), the second one's UPDATE waits for the first to commit and then finds
nothing to update, so it makes no entry. Tracking an impulse again on
purpose needs ``confirm_again``.

Functions raise ``ValidationError`` / ``AlreadyTracked`` and leave
committing (or rolling back) to the caller.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from app import timeutil
from app.entries.service import EntryInput, save_entry
from app.errors import NotFound, TimepulseError, ValidationError
from app.extensions import db
from app.impulses.rounding import round_range
from app.impulses.suggest import Suggestion
from app.models import Occurrence, Project, TimeEntry, User

# Where a one-click all-day impulse lands on the user's wall clock.
WORKDAY = (time(9, 0), time(17, 0))
FREE = "FREE"
CANCELLED = "CANCELLED"


class AlreadyTracked(TimepulseError):
    """The impulse is tracked already; tracking it again needs confirmation."""

    def __init__(self, occurrence_id: int, entry_id: int | None) -> None:
        super().__init__("This meeting is already tracked. Track it again?")
        self.occurrence_id = occurrence_id
        self.entry_id = entry_id


def snapshot_of(occ: Occurrence) -> dict[str, Any]:
    """The event as it is now, stored with the entry to show later changes."""
    return {
        "summary": occ.summary,
        "location": occ.location,
        "start": occ.start.isoformat(),
        "end": occ.end.isoformat(),
        "all_day": occ.all_day,
        "feed": occ.feed.name if occ.feed is not None else "",
        "uid": occ.uid,
        "recurrence_id": occ.recurrence_id,
    }


def all_day_dates(occ: Occurrence) -> tuple[date, date]:
    """First and last date of an all-day occurrence (stored at UTC midnight, end exclusive)."""
    first = occ.start.astimezone(UTC).date()
    last = occ.end.astimezone(UTC).date() - timedelta(days=1)
    return first, max(first, last)


def tracked_range(
    user: User, occ: Occurrence, day: date | None = None
) -> tuple[datetime, datetime]:
    """The entry's [start, end) for an impulse: the event rounded per the user.

    An all-day event has no times; it gets the user's working day (09:00–17:00
    local) on ``day`` when that falls inside the event, else on its first date.
    """
    tz = timeutil.zone(user.timezone)
    if occ.all_day:
        first, last = all_day_dates(occ)
        on = day if day is not None and first <= day <= last else first
        start = datetime.combine(on, WORKDAY[0], tzinfo=tz).astimezone(UTC)
        return start, datetime.combine(on, WORKDAY[1], tzinfo=tz).astimezone(UTC)
    return round_range(occ.start, occ.end, user.rounding_minutes, user.rounding_mode, tz)


def default_input(
    user: User, occ: Occurrence, suggestion: Suggestion, day: date | None = None
) -> EntryInput:
    """What one click tracks: rounded times, the subject, the suggested project."""
    start, end = tracked_range(user, occ, day)
    project = db.session.get(Project, suggestion.project_id) if suggestion.project_id else None
    return EntryInput(
        start=start,
        end=end,
        description=occ.summary,
        project_id=project.id if project else None,
        billable=bool(project and project.billable_default),
    )


def latest_entry_id(occ: Occurrence) -> int | None:
    return db.session.scalar(
        sa.select(sa.func.max(TimeEntry.id)).where(TimeEntry.occurrence_id == occ.id)
    )


def track_impulse(
    user: User,
    occ: Occurrence,
    *,
    project_id: int | None,
    start: datetime,
    end: datetime,
    description: str,
    billable: bool,
    confirm_again: bool = False,
) -> TimeEntry:
    """Create the time entry for ``occ`` and mark the impulse tracked.

    Raises ``NotFound`` for someone else's impulse, ``AlreadyTracked`` when it
    is tracked already (also when a concurrent request just tracked it) and
    ``confirm_again`` is false, ``ValidationError`` for unusable values.
    """
    if occ.user_id != user.id:
        raise NotFound("There is no such impulse.")
    if end <= start:
        raise ValidationError("The end must be after the start.", field="end")
    if not _claim(occ, again=confirm_again):
        raise AlreadyTracked(occ.id, latest_entry_id(occ))
    entry = TimeEntry(user_id=user.id, occurrence_id=occ.id, source_snapshot=snapshot_of(occ))
    data = EntryInput(start, end, description, project_id, billable)
    save_entry(entry, data)
    db.session.flush()
    return entry


def _claim(occ: Occurrence, *, again: bool) -> bool:
    """Mark ``occ`` tracked; False when it already was (and ``again`` is not set).

    The condition is evaluated by the database under the row's write lock, so
    of two concurrent claims exactly one succeeds. It runs before the entry's
    INSERT on purpose: on SQLite the transaction then begins with this write,
    which waits for a concurrent writer and re-reads after it commits (a
    transaction that had read first would fail on its stale WAL snapshot).
    """
    query = sa.update(Occurrence).where(Occurrence.id == occ.id).values(state="tracked")
    if not again:
        query = query.where(Occurrence.state != "tracked")
    result = db.session.execute(query.execution_options(synchronize_session="evaluate"))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def track_suggested(
    user: User,
    occ: Occurrence,
    suggestion: Suggestion,
    *,
    day: date | None = None,
    confirm_again: bool = False,
) -> TimeEntry:
    """One-click tracking: the defaults of ``default_input``."""
    data = default_input(user, occ, suggestion, day)
    return track_impulse(
        user,
        occ,
        project_id=data.project_id,
        start=data.start,
        end=data.end,
        description=data.description,
        billable=data.billable,
        confirm_again=confirm_again,
    )


def skip_reason(
    occ: Occurrence, *, include_free: bool, include_all_day: bool, include_cancelled: bool
) -> str | None:
    """Why "Track all" leaves ``occ`` alone, or None when it tracks it."""
    if occ.state != "new" or occ.removed_at is not None:
        return "done"
    if not occ.all_day and occ.end <= occ.start:
        return "no duration"
    if (occ.busy_status or "").upper() == FREE and not include_free:
        return "free"
    if occ.all_day and not include_all_day:
        return "all day"
    if (occ.status or "").upper() == CANCELLED and not include_cancelled:
        return "cancelled"
    return None


def track_all(
    user: User,
    day: date,
    include_free: bool = False,
    include_all_day: bool = False,
    include_cancelled: bool = False,
) -> int:
    """Track every new impulse of ``day``; returns how many entries were made.

    Free, all-day and cancelled impulses are skipped unless included;
    tracked, dismissed and removed ones always are. An impulse another
    request tracks meanwhile is skipped, not doubled.
    """
    from app.impulses.panel import day_impulses  # the panel builds on tracking

    impulses = day_impulses(user, day)
    count = 0
    for impulse in impulses:
        occ = impulse.occurrence
        reason = skip_reason(
            occ,
            include_free=include_free,
            include_all_day=include_all_day,
            include_cancelled=include_cancelled,
        )
        if reason is None and _track_quietly(user, occ, impulse.suggestion, day):
            count += 1
    return count


def _track_quietly(user: User, occ: Occurrence, suggestion: Suggestion, day: date) -> bool:
    try:
        track_suggested(user, occ, suggestion, day=day)
    except AlreadyTracked:
        return False  # a concurrent request took it: that one entry is enough
    return True


def dismiss(occ: Occurrence) -> None:
    """Put a new impulse out of the way (never deleted; ``undo_dismiss`` brings it back)."""
    if occ.state == "tracked":
        raise ValidationError("A tracked meeting cannot be dismissed; delete its entry instead.")
    occ.state = "dismissed"


def undo_dismiss(occ: Occurrence) -> None:
    if occ.state == "dismissed":
        occ.state = "new"
