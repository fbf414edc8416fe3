"""Importing a calendar file: for users whose organisation does not allow publishing.

An ``.ics`` exported from Outlook becomes a feed of kind "upload": listed
with the subscriptions, counted against the same limit, read under the same
size cap and "is it a calendar?" check as a fetched body, and parsed,
expanded, diagnosed and reconciled through the same functions a refresh
uses — so its events become impulses exactly like a feed's. It has no link
(``url_encrypted`` is NULL, ``url_masked`` holds the file name) and is never
refreshed: the scheduler only claims ``kind == "url"``, and
``next_refresh_at`` is set far ahead so nothing waits for it either.
Uploading a new version of the file updates it in place.

Functions never commit; the view does.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import PureWindowsPath
from zoneinfo import ZoneInfo

import sqlalchemy.orm as so
from flask import Flask

from app import timeutil
from app.errors import FeedError, FeedErrorKind, ValidationError
from app.feeds import engine
from app.feeds.fetch import check_calendar_body
from app.feeds.types import FeedReport
from app.models import Feed, SyncRun, User, utcnow
from app.refresh.apply import active_count, owner_zone, read_report, store_report
from app.refresh.feeds import check_feed_limit, clean_colour, clean_name
from app.refresh.policy import fetch_policy, refresh_window
from app.refresh.reconcile import Counts, reconcile

KIND = "upload"
# An uploaded file is never due: far enough ahead that no "next refresh" comes.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)
NAME_MAX = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What one import or re-upload did: "ok" or "unchanged", with counts."""

    feed: Feed
    outcome: str
    counts: Counts


def import_calendar_file(
    session: so.Session,
    app: Flask,
    user: User,
    filename: str,
    data: bytes,
    *,
    name: str | None,
    colour: str | None,
    import_from: date | None,
    now: datetime | None = None,
) -> Feed:
    """Store ``data`` (an uploaded .ics) as a new upload feed of ``user`` with its impulses.

    ``name`` defaults to the file name without its extension. Raises
    ``ValidationError`` (feed limit reached, bad name) or ``FeedError``
    (too large, not a calendar, unreadable) before anything is stored.
    """
    now = now or utcnow()
    check_feed_limit(session, app, user.id)
    label = clean_filename(filename)
    feed_name = clean_name(name if (name or "").strip() else _stem(label))
    check_file(app, data)
    zone = timeutil.zone(user.timezone)
    window = refresh_window(now, import_from, zone)
    report = read_file(data, window, zone)
    feed = Feed(
        user_id=user.id,
        name=feed_name,
        colour=clean_colour(colour),
        kind=KIND,
        url_encrypted=None,
        # The fingerprint is unique per user; a file has no link to fingerprint.
        url_fingerprint=f"upload:{secrets.token_hex(16)}",
        url_masked=label,
        import_from=import_from,
        next_refresh_at=NEVER,
        progress="done",
        diagnostics=[],
        timezones=[],
    )
    session.add(feed)
    session.flush()
    _apply(session, feed, data, report, now=now, window=window, started=time.monotonic())
    return feed


def reupload(
    session: so.Session,
    app: Flask,
    feed: Feed,
    data: bytes,
    *,
    filename: str | None = None,
    now: datetime | None = None,
) -> UploadResult:
    """Replace an upload feed's events with a new version of its file, in place.

    Occurrences keep their rows (and so their state and time entries);
    those missing from the new file inside the window are soft-removed. The
    same file again is recorded as "unchanged", unless "import from" was
    changed since (then it is read again over the new window). Raises
    ``ValidationError`` for a subscription feed and ``FeedError`` for a bad
    file, changing nothing.
    """
    if feed.kind != KIND:
        raise ValidationError("Only calendars imported from a file can be re-uploaded.")
    now = now or utcnow()
    started = time.monotonic()
    check_file(app, data)
    fingerprint = engine.body_fingerprint(data)
    if filename:
        feed.url_masked = clean_filename(filename)
    # The same file again: no parsing, as a refresh — unless "import from"
    # changed since, which only a new read of the file can apply.
    if fingerprint == feed.content_hash and not feed.full_reimport:
        counts = Counts(unchanged=active_count(session, feed.id))
        _record(session, feed, data, "unchanged", counts, now=now, started=started)
        return UploadResult(feed, "unchanged", counts)
    zone = owner_zone(session, feed)
    window = refresh_window(now, feed.import_from, zone)
    report = read_file(data, window, zone)
    counts = _apply(session, feed, data, report, now=now, window=window, started=started)
    return UploadResult(feed, "ok", counts)


# --- checks and reading -----------------------------------------------------------


def check_file(app: Flask, data: bytes) -> None:
    """The fetch's rules for a body: the same size cap, and it must be a VCALENDAR."""
    cap = fetch_policy(app).max_bytes
    if len(data) > cap:
        raise FeedError(FeedErrorKind.TOO_LARGE, too_large_message(cap))
    try:
        check_calendar_body(data)
    except FeedError as err:
        # The fetch explains this in terms of links; say it in terms of files.
        raise FeedError(err.kind, _not_calendar_message(data), detail=err.detail) from None


def too_large_message(cap: int) -> str:
    """What to say about a file over ``cap`` bytes, whichever limit caught it."""
    return (
        f"The file is larger than {cap / (1024 * 1024):g} MiB, more than Timepulse "
        "accepts. Export a shorter period from Outlook and upload that."
    )


def _not_calendar_message(data: bytes) -> str:
    what = "empty" if not data.strip() else "not a calendar"
    if data.lstrip()[:1] == b"<":
        what = "a web page, not a calendar"
    return (
        f"This file is {what}: a calendar file starts with BEGIN:VCALENDAR. In Outlook, "
        "use File → Save Calendar and save it as “iCalendar Format (.ics)”."
    )


def read_file(data: bytes, window: tuple[datetime, datetime], zone: ZoneInfo) -> FeedReport:
    """Parse, expand and diagnose ``data`` over ``window``, exactly as a refresh does."""
    return read_report(
        data, window, zone, unreadable="The file looks like a calendar but could not be read."
    )


def clean_filename(filename: str | None) -> str:
    """The file's own name (no folders, no control characters), as the list shows it."""
    # Some browsers send "C:\\fakepath\\work.ics"; PureWindowsPath splits on / and \.
    base = PureWindowsPath(filename or "").name
    base = _CONTROL.sub("", base).strip()
    return (base or "calendar.ics")[:NAME_MAX]


def _stem(label: str) -> str:
    stem = label.rsplit(".", 1)[0] if "." in label else label
    return stem.strip() or "Imported calendar"


# --- applying and recording -----------------------------------------------------


def _apply(
    session: so.Session,
    feed: Feed,
    data: bytes,
    report: FeedReport,
    *,
    now: datetime,
    window: tuple[datetime, datetime],
    started: float,
) -> Counts:
    """Reconcile the file's occurrences and record the run; what a refresh does."""
    fingerprint = engine.body_fingerprint(data)
    # The hold protects against a publisher's bad moment; a file the user
    # chose to upload is what they mean, and no later refresh would confirm it.
    counts = reconcile(
        session,
        feed,
        report.occurrences,
        now=now,
        window=window,
        fingerprint=fingerprint,
        hold=False,
    )
    store_report(feed, report, fingerprint, now)
    _record(session, feed, data, "ok", counts, now=now, started=started)
    return counts


def _record(
    session: so.Session,
    feed: Feed,
    data: bytes,
    outcome: str,
    counts: Counts,
    *,
    now: datetime,
    started: float,
) -> None:
    feed.last_attempt_at = feed.last_success_at = now
    feed.failure_count = 0
    feed.last_error_kind = feed.last_error_message = None
    feed.held = None
    feed.full_reimport = False
    feed.progress = "done"
    feed.next_refresh_at = NEVER
    feed.last_response = None  # no server answered: the file came from the user
    session.add(
        SyncRun(
            feed_id=feed.id,
            started_at=now,
            duration_ms=int((time.monotonic() - started) * 1000),
            outcome=outcome,
            http_status=None,
            bytes=len(data),
            new=counts.new,
            changed=counts.changed,
            removed=counts.removed,
            unchanged=counts.unchanged,
        )
    )
