"""What a refresh, an upload and a link check share: reading a body, storing its report.

A fetched body and an uploaded file go through the same steps — parse,
expand and diagnose over the refresh window (``read_report``), then, once
reconciled, the same facts about the calendar are kept on the feed
(``store_report``). Keeping them here means a file and a link can never
drift apart in what they call "unreadable" or what the feed page shows.

Nothing here commits; the caller does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from app import timeutil
from app.errors import FeedError, FeedErrorKind
from app.feeds import engine
from app.feeds.types import FeedReport
from app.models import Feed, Occurrence, User

UNREADABLE = "The calendar could not be read."

Scrub = Callable[[str | None], str | None]


def read_report(
    body: bytes,
    window: tuple[datetime, datetime],
    zone: ZoneInfo,
    *,
    unreadable: str = UNREADABLE,
    scrub: Scrub | None = None,
) -> FeedReport:
    """Parse, expand and diagnose ``body`` over ``window``; floating times read in ``zone``.

    The engine reports damage as findings; a ``ValueError``, ``UnicodeError``
    or ``LookupError`` that still escapes means "could not be read", never a
    crash: it is raised as ``FeedError(PARSE)`` with ``unreadable`` as the
    message. The detail is the exception's type, or — when ``scrub`` is given
    (a refresh, whose history keeps the detail) — its scrubbed text too.
    """
    try:
        return engine.inspect_calendar(body, window[0], window[1], default_tz=zone)
    except (ValueError, UnicodeError, LookupError) as exc:
        name = type(exc).__name__
        detail = scrub(f"{name}: {exc}") if scrub else name
        raise FeedError(FeedErrorKind.PARSE, unreadable, detail=detail) from None


def store_report(feed: Feed, report: FeedReport, fingerprint: str, now: datetime) -> None:
    """Keep what ``report`` says about the calendar on ``feed``, after it was reconciled.

    ``fingerprint`` identifies the body; a different one than last time
    marks the feed as changed ``now`` (what "stale" is measured from).
    ``feed.diagnostics`` becomes the engine's findings only; a refresh adds
    its own (held, stale) on top.
    """
    if fingerprint != feed.content_hash:
        feed.last_change_at = now
    feed.content_hash = fingerprint
    feed.detail_level = report.detail_level
    feed.event_count = report.event_count
    feed.timezones = [{"tzid": t.tzid, "zone": t.zone, "how": t.how} for t in report.timezones]
    feed.diagnostics = [
        {"code": d.code, "severity": d.severity, "message": d.message, "uid": d.uid}
        for d in report.diagnostics
    ]


def owner_zone(session: so.Session, feed: Feed) -> ZoneInfo:
    """The time zone of the feed's owner, in which floating times and the window are read."""
    user = session.get(User, feed.user_id)
    return timeutil.zone(user.timezone if user else None)


def active_count(session: so.Session, feed_id: int, before: datetime | None = None) -> int:
    """How many of the feed's occurrences are not removed (starting before ``before``)."""
    return int(session.scalar(active_count_query(feed_id, before)) or 0)


def active_count_query(
    feed_id: int | sa.BindParameter[int], before: datetime | None = None
) -> sa.Select[Any]:
    """The query ``active_count`` runs, to embed in another statement."""
    occurrences = Occurrence.__table__.c
    query = sa.select(sa.func.count(occurrences.id)).where(
        occurrences.feed_id == feed_id, occurrences.removed_at.is_(None)
    )
    if before is not None:
        query = query.where(occurrences.start < before)
    return query
