"""Step 6 of a refresh: make the stored occurrences match what the feed says.

The one place that writes occurrences. Everything happens in the caller's
transaction (nothing here commits), so a refresh is applied whole or not at
all:

* new occurrences are inserted in batches; changed ones are updated in
  place — same row, same id, so an impulse's state and its time entry link
  survive a move or a rename;
* occurrences that vanished *inside the window* are soft-removed
  (``removed_at``); outside the window nothing is touched, because a feed
  only tells us about the window we asked for;
* a time entry tracked from an occurrence that moved, was renamed,
  cancelled or removed gets ``source_change`` set — and nothing else: a
  refresh never edits or deletes a time entry;
* a feed that suddenly shrinks to nothing or to less than half is *held*:
  publishers have bad moments (Exchange sometimes serves an empty calendar
  for a few minutes), and removing a user's week on the strength of one bad
  answer would be wrong. The next refresh that shows the same confirms it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from app.feeds.types import Occurrence as FeedOccurrence
from app.models import Feed, Occurrence, TimeEntry

BATCH = 1000
_UID_MAX = 255


@dataclass(frozen=True, slots=True)
class Counts:
    """What one reconcile did; ``held`` means nothing was applied."""

    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    held: bool = False


@dataclass(frozen=True, slots=True)
class _Stored:
    id: int
    start: datetime
    end: datetime
    summary: str
    status: str | None
    content_hash: str
    removed_at: datetime | None


def reconcile(
    session: so.Session,
    feed: Feed,
    occurrences: Iterable[FeedOccurrence],
    *,
    now: datetime,
    window: tuple[datetime, datetime],
    fingerprint: str | None = None,
    force: bool = False,
    hold: bool = True,
) -> Counts:
    """Apply ``occurrences`` (the feed's view of ``window``) to ``feed``'s rows.

    ``fingerprint`` identifies the body (stored with a hold so the page can
    tell the user which answer was held back); ``force`` rewrites every
    matching row even when its content hash is unchanged (full re-import);
    ``hold=False`` applies a sudden drop at once (a file the user uploaded
    is what they mean). Sets or clears ``feed.held``; never commits.
    """
    incoming = _incoming_rows(feed, occurrences, now)
    stored = _stored_rows(session, feed.id)
    active = {k for k, row in stored.items() if row.removed_at is None and _inside(row, window)}
    if hold and _dropped(len(active), len(incoming)) and not feed.held:
        feed.held = {
            "since": now.isoformat(),
            "previous": len(active),
            "now": len(incoming),
            "fingerprint": fingerprint,
        }
        return Counts(unchanged=len(active), held=True)
    counts = _apply(session, incoming, stored, active, now=now, force=force)
    feed.held = None
    return counts


def _dropped(previous: int, current: int) -> bool:
    """Zero where there were some, or fewer than half of them."""
    return previous > 0 and (current == 0 or 2 * current < previous)


def _apply(
    session: so.Session,
    incoming: dict[tuple[str, str], dict[str, Any]],
    stored: dict[tuple[str, str], _Stored],
    active: set[tuple[str, str]],
    *,
    now: datetime,
    force: bool,
) -> Counts:
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    flags: dict[int, str] = {}
    unchanged = changed = 0
    for key, values in incoming.items():
        row = stored.get(key)
        if row is None:
            inserts.append(values)
            continue
        differs = row.content_hash != values["content_hash"] or row.removed_at is not None
        if differs or force:
            updates.append(_update_values(row, values, now))
        if not differs:
            unchanged += 1
            continue
        changed += 1
        kind = _change_kind(row, values)
        if kind:
            flags[row.id] = kind
    vanished = [stored[k].id for k in active if k not in incoming]
    flags.update({occurrence_id: "removed" for occurrence_id in vanished})
    _insert(session, inserts)
    _update(session, updates)
    _soft_remove(session, vanished, now)
    _flag_entries(session, flags)
    return Counts(new=len(inserts), changed=changed, removed=len(vanished), unchanged=unchanged)


def _change_kind(row: _Stored, values: dict[str, Any]) -> str | None:
    """How a user would describe the change to a tracked event, if it matters to them."""
    if row.removed_at is not None:
        return None  # it came back; the "removed" flag already told the story
    if values["status"] == "CANCELLED" and row.status != "CANCELLED":
        return "cancelled"
    if (row.start, row.end) != (values["start"], values["end"]):
        return "moved"
    if row.summary != values["summary"]:
        return "renamed"
    return None


def _inside(row: _Stored, window: tuple[datetime, datetime]) -> bool:
    # By start only: an occurrence that began before the window is never
    # removed because the feed was asked about a later period.
    return window[0] <= row.start < window[1]


# --- reading ------------------------------------------------------------------


def _stored_rows(session: so.Session, feed_id: int) -> dict[tuple[str, str], _Stored]:
    result = session.execute(
        sa.select(
            Occurrence.id,
            Occurrence.uid,
            Occurrence.recurrence_id,
            Occurrence.start,
            Occurrence.end,
            Occurrence.summary,
            Occurrence.status,
            Occurrence.content_hash,
            Occurrence.removed_at,
        ).where(Occurrence.feed_id == feed_id)
    )
    return {(r.uid, r.recurrence_id): _Stored(r.id, *r[3:]) for r in result}


def _incoming_rows(
    feed: Feed, occurrences: Iterable[FeedOccurrence], now: datetime
) -> dict[tuple[str, str], dict[str, Any]]:
    """Database values keyed by identity; a repeated identity keeps the last one."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for occ in occurrences:
        values = occurrence_values(occ)
        values.update(
            feed_id=feed.id,
            user_id=feed.user_id,
            state="new",
            removed_at=None,
            first_seen_at=now,
            updated_at=now,
        )
        rows[(values["uid"], values["recurrence_id"])] = values
    return rows


def occurrence_values(occ: FeedOccurrence) -> dict[str, Any]:
    """The columns of one engine occurrence, fitted to the schema."""
    return {
        "uid": _fit_uid(occ.uid),
        "recurrence_id": (occ.recurrence_id or "")[:32],
        "start": _instant(occ.start),
        "end": _instant(occ.end),
        "all_day": occ.all_day,
        "summary": occ.summary,
        "location": occ.location,
        "description": occ.description,
        "organizer": occ.organizer[:255],
        "busy_status": occ.busy_status,
        "status": occ.status,
        "private": occ.private,
        "content_hash": occ.content_hash(),
    }


def _fit_uid(uid: str) -> str:
    # Exchange UIDs are long hex strings, usually well under the column size;
    # a longer one keeps a stable identity through its hash.
    if len(uid) <= _UID_MAX:
        return uid
    return "sha256:" + hashlib.sha256(uid.encode()).hexdigest()


def _instant(value: datetime | date) -> datetime:
    """All-day dates are stored at UTC midnight; timed values as aware UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    return datetime.combine(value, time(), tzinfo=UTC)


# --- writing ------------------------------------------------------------------

_UPDATABLE = (
    "start",
    "end",
    "all_day",
    "summary",
    "location",
    "description",
    "organizer",
    "busy_status",
    "status",
    "private",
    "content_hash",
)


def _update_values(row: _Stored, values: dict[str, Any], now: datetime) -> dict[str, Any]:
    update = {name: values[name] for name in _UPDATABLE}
    update.update(id=row.id, removed_at=None, updated_at=now)
    return update


def _batches(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def _insert(session: so.Session, rows: list[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        session.execute(sa.insert(Occurrence), list(batch))


def _update(session: so.Session, rows: list[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        session.execute(sa.update(Occurrence), list(batch))


def _soft_remove(session: so.Session, ids: list[int], now: datetime) -> None:
    for batch in _batches(ids):
        session.execute(
            sa.update(Occurrence)
            .where(Occurrence.id.in_(batch))
            .values(removed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _flag_entries(session: so.Session, flags: dict[int, str]) -> None:
    """Set ``source_change`` on entries tracked from changed occurrences — only that column."""
    by_kind: dict[str, list[int]] = {}
    for occurrence_id, kind in flags.items():
        by_kind.setdefault(kind, []).append(occurrence_id)
    for kind, ids in by_kind.items():
        for batch in _batches(ids):
            session.execute(
                sa.update(TimeEntry)
                .where(TimeEntry.occurrence_id.in_(batch))
                .values(source_change=kind)
                .execution_options(synchronize_session=False)
            )
