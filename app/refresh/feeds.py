"""Subscribing to feeds: check a link, add, edit, pause, resume, disconnect, refresh.

Functions receive what they work on and raise ``ValidationError`` /
``FeedError`` with messages fit to show; they never commit (the view or
command does). Link rules come from ``app.feeds.links``; what a link is
refused for is explained by the diagnostics catalogue. The URL is kept
only encrypted (``secrets``); pages show ``url_masked``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask

from app.errors import ValidationError
from app.feeds.fetch import FetchPolicy, fetch_feed
from app.feeds.links import mask_url, normalize_feed_url
from app.feeds.types import DetailLevel, Diagnostic, FetchResult
from app.models import Feed, Occurrence, SyncRun, TimeEntry
from app.refresh.apply import read_report
from app.refresh.policy import refresh_window
from app.refresh.secrets import feed_cipher

DEFAULT_COLOUR = "#2f855a"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
NAME_MAX = 120
# What an edit asks for next; see ``update_feed``.
Edited = Literal["refresh", "next_upload"] | None


@dataclass(frozen=True)
class CheckResult:
    """What checking a link found. ``url`` is the normalised link: a secret."""

    url: str = field(repr=False)
    masked: str
    event_count: int
    occurrence_count: int
    detail_level: DetailLevel
    diagnostics: list[Diagnostic]
    prodid: str | None = None

    @property
    def problems(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity != "info"]

    @property
    def notes(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "info"]


def check_link(
    raw: str,
    *,
    policy: FetchPolicy,
    tz: ZoneInfo,
    now: datetime,
    import_from: date | None = None,
    fetch: Callable[..., FetchResult] = fetch_feed,
) -> CheckResult:
    """Normalise ``raw``, fetch it once and say what a refresh would find.

    Raises ``FeedLinkError`` (not a link, http://, the OWA .html page — with
    the .ics link as ``suggestion``) or ``FeedError`` (unreachable, not a
    calendar, too large, …). Nothing is stored.
    """
    url = normalize_feed_url(raw)
    fetched = fetch(url, policy=policy)
    window = refresh_window(now, import_from, tz)
    report = read_report(
        fetched.body,
        window,
        tz,
        unreadable="The link answered with a calendar that could not be read.",
    )
    return CheckResult(
        url=url,
        masked=mask_url(url),
        event_count=report.event_count,
        occurrence_count=len(report.occurrences),
        detail_level=report.detail_level,
        diagnostics=list(report.diagnostics),
        prodid=report.prodid,
    )


# --- validation -------------------------------------------------------------------


def clean_name(name: str | None) -> str:
    text = (name or "").strip()
    if not text:
        raise ValidationError("Give the calendar a name, for example “Work”.", field="name")
    if len(text) > NAME_MAX:
        raise ValidationError(f"Keep the name under {NAME_MAX} characters.", field="name")
    return text


def clean_colour(colour: str | None) -> str:
    text = (colour or "").strip()
    return text.lower() if _COLOUR.match(text) else DEFAULT_COLOUR


def check_feed_limit(session: so.Session, app: Flask, user_id: int) -> None:
    """Refuse a new feed when the user already has the configured maximum."""
    limit = int(app.config.get("TIMEPULSE_MAX_FEEDS", 20))
    count = session.scalar(sa.select(sa.func.count(Feed.id)).where(Feed.user_id == user_id))
    if (count or 0) >= limit:
        raise ValidationError(
            f"You can subscribe to at most {limit} calendars. Disconnect one you no "
            "longer use before adding another.",
            field="url",
        )


def check_not_duplicate(
    session: so.Session, app: Flask, user_id: int, url: str, *, except_feed: int | None = None
) -> str:
    """The link's keyed fingerprint; ValidationError when the user already has it."""
    fingerprint = feed_cipher(app).fingerprint(url)
    query = sa.select(Feed.name).where(Feed.user_id == user_id, Feed.url_fingerprint == fingerprint)
    if except_feed is not None:
        query = query.where(Feed.id != except_feed)
    existing = session.scalar(query)
    if existing is not None:
        raise ValidationError(
            f"You already subscribe to this calendar (“{existing}”). Each link can be added once.",
            field="url",
        )
    return fingerprint


# --- workflows ------------------------------------------------------------------------


def add_feed(
    session: so.Session,
    app: Flask,
    user_id: int,
    url: str,
    *,
    name: str,
    colour: str | None,
    import_from: date | None,
    now: datetime,
) -> Feed:
    """Store a new feed for ``url`` (already normalised and checked), due at once."""
    check_feed_limit(session, app, user_id)
    fingerprint = check_not_duplicate(session, app, user_id, url)
    feed = Feed(
        user_id=user_id,
        name=clean_name(name),
        colour=clean_colour(colour),
        kind="url",
        url_encrypted=feed_cipher(app).encrypt(url),
        url_fingerprint=fingerprint,
        url_masked=mask_url(url)[:120],
        import_from=import_from,
        next_refresh_at=now,
        refresh_interval=int(app.config.get("TIMEPULSE_REFRESH_INTERVAL", 900)),
        progress="queued",
        diagnostics=[],
        timezones=[],
    )
    session.add(feed)
    session.flush()
    return feed


def update_feed(
    session: so.Session,
    app: Flask,
    feed: Feed,
    *,
    name: str,
    colour: str | None,
    import_from: date | None,
    new_url: str | None,
    now: datetime,
) -> Edited:
    """Edit a feed; ``new_url`` (normalised, checked) replaces the link when given.

    Returns "refresh" when the change needs a refresh (new link, or a new
    "import from" of a subscription; the refresh is requested here),
    "next_upload" when a file's "import from" changed (a file is never
    refreshed, so the date applies when its next version is uploaded), else
    None. Raises ``ValidationError`` for a link given to a file, or for a
    new "import from" of a paused subscription.
    """
    feed.name = clean_name(name)
    feed.colour = clean_colour(colour)
    moved = import_from != feed.import_from
    feed.import_from = import_from
    if feed.kind != "url":
        if new_url:
            raise ValidationError("A calendar imported from a file has no link.", field="url")
        # Read the next upload in full, even if it is the same file.
        feed.full_reimport = feed.full_reimport or moved
        return "next_upload" if moved else None
    if new_url:
        _replace_link(session, app, feed, new_url)
    if not (moved or new_url):
        return None
    request_refresh(feed, full=True, now=now)
    return "refresh"


def _replace_link(session: so.Session, app: Flask, feed: Feed, url: str) -> None:
    """A new link is a fresh start: no validators, no failures, not paused."""
    feed.url_fingerprint = check_not_duplicate(session, app, feed.user_id, url, except_feed=feed.id)
    feed.url_encrypted = feed_cipher(app).encrypt(url)
    feed.url_masked = mask_url(url)[:120]
    feed.etag = feed.last_modified = None
    feed.failure_count = 0
    feed.paused, feed.pause_reason = False, None


def pause_feed(feed: Feed, reason: str | None = None) -> None:
    if feed.kind != "url":
        raise ValidationError(
            "A calendar imported from a file is never refreshed, so it cannot be paused."
        )
    feed.paused = True
    feed.pause_reason = reason or "Paused by you."


def resume_feed(feed: Feed, *, now: datetime) -> None:
    """Resume refreshing now; a feed paused for failing links gets a fresh start."""
    feed.paused = False
    feed.pause_reason = None
    feed.failure_count = 0
    request_refresh(feed, now=now)


def request_refresh(feed: Feed, *, full: bool = False, now: datetime) -> None:
    """Make the feed due now; ``full`` ignores validators and the body fingerprint once."""
    if feed.kind != "url":
        raise ValidationError(
            "This calendar was imported from a file; import a new file to update it."
        )
    if feed.paused:
        raise ValidationError("This calendar is paused. Resume it to refresh it.")
    feed.next_refresh_at = now
    feed.progress = "queued"
    if full:
        feed.full_reimport = True


def disconnect_feed(session: so.Session, feed: Feed) -> int:
    """Delete the feed, its impulses and history; time entries stay, unlinked.

    Each linked entry keeps (or gets) a snapshot of its event including the
    feed's name, so the timesheet can still say where it came from.
    Returns the number of entries that were unlinked.
    """
    occurrence_ids = sa.select(Occurrence.id).where(Occurrence.feed_id == feed.id)
    entries = session.scalars(
        sa.select(TimeEntry).where(TimeEntry.occurrence_id.in_(occurrence_ids))
    ).all()
    for entry in entries:
        entry.source_snapshot = _snapshot(entry, feed)
        entry.occurrence_id = None
    session.flush()
    session.execute(sa.delete(Occurrence).where(Occurrence.feed_id == feed.id))
    session.execute(sa.delete(SyncRun).where(SyncRun.feed_id == feed.id))
    session.delete(feed)
    return len(entries)


def _snapshot(entry: TimeEntry, feed: Feed) -> dict[str, Any]:
    snapshot = dict(entry.source_snapshot or {})
    occurrence = entry.occurrence
    if occurrence is not None:
        snapshot.setdefault("summary", occurrence.summary)
        snapshot.setdefault("location", occurrence.location)
        snapshot.setdefault("start", occurrence.start.isoformat())
        snapshot.setdefault("end", occurrence.end.isoformat())
    snapshot.setdefault("feed", feed.name)
    return snapshot
