"""Fixtures for the refresh tests: calendars built in code, feeds served over HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask

from tests.support.feed_server import FeedServer

TOKEN = "S3cr3tT0kenAbcDef0123456789xyz"
FEED_PATH = f"/owa/calendar/0f3c9a/{TOKEN}/calendar.ics"


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    day: int = 1  # days from today
    hour: int = 9
    minutes: int = 60
    status: str | None = None
    location: str = ""


def ics(*events: Event, stamp: str | None = None, extra: str = "") -> bytes:
    """A small VCALENDAR with ``events`` relative to today (UTC)."""
    stamp = stamp or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    today = datetime.now(UTC).date()
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Timepulse tests//EN"]
    if extra:
        lines.append(extra)
    for event in events:
        start = datetime.combine(today + timedelta(days=event.day), time(event.hour), tzinfo=UTC)
        end = start + timedelta(minutes=event.minutes)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{event.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{event.summary}",
        ]
        if event.location:
            lines.append(f"LOCATION:{event.location}")
        if event.status:
            lines.append(f"STATUS:{event.status}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


THREE = (
    Event("a@test", "Standup", day=1),
    Event("b@test", "Planning", day=2),
    Event("c@test", "Review", day=3),
)


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TIMEPULSE_ALLOW_PRIVATE_FEEDS": True, "TIMEPULSE_REFRESH_INLINE": True}


@pytest.fixture
def feed_url(feed_server: FeedServer) -> str:
    return feed_server.url(FEED_PATH)


@pytest.fixture
def make_feed(app: Flask) -> Any:
    """Subscribe ``user_id`` to ``url`` through the domain function; returns the feed id."""

    def make(user_id: int, url: str, name: str = "Work", **extra: Any) -> int:
        from app.extensions import db
        from app.feeds.links import normalize_feed_url
        from app.models import utcnow
        from app.refresh.feeds import add_feed

        with app.app_context():
            feed = add_feed(
                db.session,
                app,
                user_id,
                normalize_feed_url(url),
                name=name,
                colour=None,
                import_from=extra.pop("import_from", None),
                now=utcnow(),
            )
            for key, value in extra.items():
                setattr(feed, key, value)
            db.session.commit()
            return feed.id

    return make


@pytest.fixture
def refresh(app: Flask) -> Any:
    """Run one refresh in a fresh app context, as a worker would."""

    def run(feed_id: int, **kwargs: Any) -> Any:
        from app.extensions import db
        from app.refresh.refresh import refresh_feed

        with app.app_context():
            try:
                return refresh_feed(feed_id, worker_id=kwargs.pop("worker_id", "test"), **kwargs)
            finally:
                db.session.remove()

    return run


@pytest.fixture
def query(app: Flask) -> Iterator[Any]:
    """Run ``fn(session)`` in its own app context and return the result."""

    def run(fn: Any) -> Any:
        from app.extensions import db

        with app.app_context():
            try:
                return fn(db.session)
            finally:
                db.session.remove()

    yield run


def today() -> date:
    return datetime.now(UTC).date()
