"""Helpers for the resilience suites (hostile feeds, fuzzing, crash safety).

A "snapshot" is every row of every table, as plain tuples ordered by primary
key: two snapshots compare equal only when nothing at all was written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

# The columns a refresh commits on its own before it writes anything that
# matters (lease taken, "fetching" / "parsing" / "saving"): a refresh killed
# half-way leaves them behind by design, and the lease expires.
REFRESH_BOOKKEEPING = {"feeds": ("lease_owner", "lease_expires_at", "progress")}

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(app: Flask, *, ignore: dict[str, tuple[str, ...]] | None = None) -> Snapshot:
    """Every row of every table (``ignore``: columns per table to leave out)."""
    from app.extensions import db

    ignore = ignore or {}
    with app.app_context():
        try:
            return {table.name: _rows(db.session, table, ignore.get(table.name, ())) for table in
                    db.metadata.sorted_tables}  # fmt: skip
        finally:
            db.session.remove()


def _rows(session: Any, table: sa.Table, skip: Iterable[str]) -> list[tuple[Any, ...]]:
    columns = [c for c in table.columns if c.name not in set(skip)]
    order = list(table.primary_key.columns) or columns
    return [freeze(r) for r in session.execute(sa.select(*columns).order_by(*order))]


def freeze(row: Iterable[Any]) -> tuple[Any, ...]:
    """A row as a hashable tuple (JSON columns as canonical text)."""
    return tuple(
        json.dumps(v, sort_keys=True, default=str) if isinstance(v, dict | list) else v for v in row
    )


def changed_rows(before: Snapshot, after: Snapshot, tables: Iterable[str]) -> int:
    """Rows of ``tables`` in ``before`` that are missing or different in ``after``."""
    lost = 0
    for name in tables:
        now = set(after.get(name, []))
        lost += sum(1 for row in before.get(name, []) if row not in now)
    return lost


def ics_events(count: int, *, first_uid: int = 0, prefix: str = "e") -> str:
    """``count`` small one-hour events from tomorrow on (UTC), CRLF lines, no VCALENDAR."""
    base = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    lines = []
    for i in range(first_uid, first_uid + count):
        start = base + timedelta(days=1 + (i % 25), minutes=15 * (i % 40))
        lines += [
            "BEGIN:VEVENT",
            f"UID:{prefix}{i}@timepulse.test",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{prefix} {i}",
            "END:VEVENT",
        ]
    return "".join(line + "\r\n" for line in lines)


def calendar(*parts: str) -> str:
    """A VCALENDAR around pre-rendered ``parts`` (CRLF lines)."""
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Timepulse resilience//EN\r\n"
    return head + "".join(parts) + "END:VCALENDAR\r\n"


def tiny_events(count: int) -> str:
    """``count`` near-minimal events (UID and DTSTART only), one a minute from 50 days ago."""
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=50)
    return "".join(
        f"BEGIN:VEVENT\r\nUID:t{i}\r\nDTSTART:{base + timedelta(minutes=i):%Y%m%dT%H%M%SZ}\r\n"
        "END:VEVENT\r\n"
        for i in range(count)
    )


def add_url_feed(app: Flask, user_id: int, url: str, name: str) -> int:
    """Subscribe ``user_id`` to ``url`` through the domain function; the feed is due at once."""
    from app.extensions import db
    from app.feeds.links import normalize_feed_url
    from app.models import utcnow
    from app.refresh.feeds import add_feed

    with app.app_context():
        try:
            feed = add_feed(
                db.session, app, user_id, normalize_feed_url(url), name=name, colour=None,
                import_from=None, now=utcnow(),
            )  # fmt: skip
            db.session.commit()
            return feed.id
        finally:
            db.session.remove()
