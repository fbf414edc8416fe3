"""When the calendar changed after tracking: show it, and let the user choose.

A refresh only flags an entry (``TimeEntry.source_change`` = "moved",
"renamed", "cancelled" or "removed"); it never edits it. Here the user
resolves the flag: *keep* the entry as it is, *apply* the calendar's
current version (moved / renamed), or *delete* the entry (cancelled /
removed). Nothing changes until one of those is chosen.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from app import timeutil
from app.errors import ValidationError
from app.extensions import db
from app.impulses.rounding import round_range
from app.impulses.tracking import snapshot_of
from app.models import Occurrence, TimeEntry, User, utcnow

GONE = ("cancelled", "removed")
LABELS = {
    "moved": "moved",
    "renamed": "renamed",
    "cancelled": "cancelled",
    "removed": "removed from the calendar",
}


@dataclass(frozen=True)
class Compared:
    """One line of the side-by-side view."""

    label: str
    entry: str
    calendar: str

    @property
    def differs(self) -> bool:
        return self.entry != self.calendar


@dataclass(slots=True)
class EventNow:
    """What a change compares of the calendar event as it is now."""

    start: datetime
    end: datetime
    all_day: bool
    status: str | None
    summary: str
    location: str


@dataclass(slots=True)
class ChangedEntry:
    """An entry whose event changed, as the dashboard lists it: read as a plain row
    through the connection, not an ORM object through the session, whose ORM path
    cost more than the query (0.07 ms a view). The change's own page and its
    actions load the ``TimeEntry``."""

    id: int
    description: str
    start: datetime
    end: datetime | None
    occurrence_id: int | None
    source_snapshot: dict[str, Any] | None
    source_change: str | None
    occurrence: EventNow | None


@dataclass(frozen=True)
class PendingChange:
    """An entry whose event changed, ready to show side by side."""

    entry: TimeEntry | ChangedEntry
    label: str
    compared: list[Compared]
    choices: tuple[str, ...]


def describe_change(entry: TimeEntry | ChangedEntry, user: User) -> PendingChange:
    return PendingChange(
        entry,
        LABELS.get(entry.source_change or "", entry.source_change or ""),
        compare(entry, user),
        choices(entry),
    )


_ENTRY = tuple(f.name for f in fields(ChangedEntry) if f.name != "occurrence")
_EVENT = tuple(f.name for f in fields(EventNow))


def pending_changes(user_id: int, limit: int = 50) -> list[ChangedEntry]:
    """The user's entries whose calendar event changed, newest first."""
    rows = db.session.connection().execute(_pending_select(limit), {"user_id": user_id})
    cut = len(_ENTRY)
    return [
        # An event's start is never empty: without one, the entry has no event left.
        ChangedEntry(*row[:cut], occurrence=None if row[cut] is None else EventNow(*row[cut:]))
        for row in rows
    ]


@functools.lru_cache(maxsize=8)
def _pending_select(limit: int) -> sa.Select[Any]:
    """The columns of ``ChangedEntry``, then of its ``EventNow``; built once per
    process: building a query and its SQL cache key costs more than running this one."""
    return (
        sa.select(
            *(getattr(TimeEntry, name) for name in _ENTRY),
            *(getattr(Occurrence, name) for name in _EVENT),
        )
        .outerjoin(Occurrence, TimeEntry.occurrence_id == Occurrence.id)
        .where(TimeEntry.user_id == sa.bindparam("user_id"), TimeEntry.source_change.is_not(None))
        .order_by(TimeEntry.start.desc())
        .limit(limit)
    )


def choices(entry: TimeEntry | ChangedEntry) -> tuple[str, ...]:
    """What the user may choose for this change."""
    if entry.source_change in GONE or entry.occurrence is None:
        return ("keep", "delete")
    return ("keep", "apply")


def compare(entry: TimeEntry | ChangedEntry, user: User) -> list[Compared]:
    """The entry next to the calendar event as it is now, in the user's zone."""
    tz = timeutil.zone(user.timezone)
    occ = entry.occurrence

    def when(start: datetime, end: datetime | None, all_day: bool = False) -> str:
        if all_day:
            first = start.astimezone(UTC)
            return f"{first:%a %-d %b %Y}, all day"
        local = start.astimezone(tz)
        end_text = end.astimezone(tz).strftime("%H:%M") if end else "now"
        return f"{local:%a %-d %b %Y}, {local:%H:%M}–{end_text}"

    calendar_when = "—" if occ is None else when(occ.start, occ.end, occ.all_day)
    if occ is not None and (occ.status or "").upper() == "CANCELLED":
        calendar_when += " (cancelled)"
    return [
        Compared("When", when(entry.start, entry.end), calendar_when),
        Compared("Description", entry.description, "—" if occ is None else occ.summary),
        Compared(
            "Location",
            (entry.source_snapshot or {}).get("location", ""),
            "—" if occ is None else occ.location,
        ),
    ]


def resolve_change(entry: TimeEntry, user: User, choice: str) -> str:
    """Apply the user's ``choice`` ("keep", "apply", "delete"); returns a message.

    Raises ``ValidationError`` when the choice does not fit the change.
    """
    if entry.source_change is None:
        raise ValidationError("There is no calendar change to resolve for this entry.")
    if choice not in choices(entry):
        raise ValidationError("Choose one of the offered options.")
    if choice == "delete":
        _delete(entry)
        return "Entry deleted."
    if choice == "apply":
        _apply(entry, user)
        message = "Entry updated from the calendar."
    else:
        message = "Entry kept as it is."
    if entry.occurrence is not None:
        entry.source_snapshot = snapshot_of(entry.occurrence)
    entry.source_change = None
    entry.updated_at = utcnow()
    return message


def _apply(entry: TimeEntry, user: User) -> None:
    """Take over what changed in the calendar since tracking (times, subject)."""
    occ = entry.occurrence
    assert occ is not None  # choices() offers "apply" only with an occurrence
    was: dict[str, Any] = entry.source_snapshot or {}
    tz = timeutil.zone(user.timezone)
    if was.get("summary") != occ.summary or not was:
        entry.description = occ.summary
    if (
        not was
        or was.get("start") != occ.start.isoformat()
        or was.get("end") != occ.end.isoformat()
    ):
        if occ.all_day:
            _shift_to_date(entry, occ, tz)
        else:
            entry.start, entry.end = round_range(
                occ.start, occ.end, user.rounding_minutes, user.rounding_mode, tz
            )
    if entry.end is not None and entry.end <= entry.start:
        raise ValidationError("The calendar's version has no duration; keep your entry instead.")


def _shift_to_date(entry: TimeEntry, occ: Occurrence, tz: Any) -> None:
    # An all-day event has no times to take over: keep the entry's wall-clock
    # times and move it to the event's (new) first date.
    local_start = entry.start.astimezone(tz)
    days = (occ.start.astimezone(UTC).date() - local_start.date()).days
    length = (entry.end or entry.start) - entry.start
    moved = (local_start.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=tz)
    entry.start = moved.astimezone(UTC)
    entry.end = entry.start + length


def _delete(entry: TimeEntry) -> None:
    """Delete the entry; its impulse counts as dismissed unless another entry remains."""
    occ = entry.occurrence
    db.session.delete(entry)
    db.session.flush()
    if occ is not None and occ.state == "tracked":
        remaining = db.session.scalar(
            sa.select(sa.func.count(TimeEntry.id)).where(TimeEntry.occurrence_id == occ.id)
        )
        if not remaining:
            occ.state = "dismissed"
