"""Claiming due feeds: FOR UPDATE SKIP LOCKED on PostgreSQL, the single writer on SQLite."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from app.models import Feed, utcnow


@pytest.fixture
def due_feeds(app: Flask, make_user: Any) -> list[int]:
    from app.extensions import db

    user = make_user()
    with app.app_context():
        feeds = [
            Feed(user_id=user, name=f"f{n}", url_fingerprint=f"fp{n}", url_encrypted=b"x",
                 next_refresh_at=utcnow() - timedelta(minutes=n))
            for n in range(5)
        ]  # fmt: skip
        db.session.add_all(feeds)
        db.session.commit()
        ids = [f.id for f in feeds]
        db.session.remove()
    return ids


def _claim_sql(app: Flask) -> list[str]:
    from app.extensions import db
    from app.refresh.scheduler import claim_due_feed_ids

    seen: list[str] = []
    with app.app_context():
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            claim_due_feed_ids(10, utcnow())
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
            db.session.remove()
    return seen


def test_claim_locks_rows_only_on_postgresql(app: Flask, due_feeds: list[int]) -> None:
    from app.extensions import db

    with app.app_context():
        dialect = db.engine.dialect.name
    claims = [s for s in _claim_sql(app) if "UPDATE feeds" in s]
    assert len(claims) == 1
    assert ("FOR UPDATE SKIP LOCKED" in claims[0]) == (dialect == "postgresql")


def test_postgresql_claim_skips_a_row_another_claimer_holds(
    app: Flask, due_feeds: list[int]
) -> None:
    from app.extensions import db
    from app.refresh.scheduler import claim_due_feed_ids

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("row locks are PostgreSQL's; SQLite serialises writers")
        held = due_feeds[0]
        with db.engine.connect() as other:
            other.execute(sa.text("SET lock_timeout = '5s'"))
            other.execute(sa.select(Feed.id).where(Feed.id == held).with_for_update())
            started = time.monotonic()
            claimed = claim_due_feed_ids(10, utcnow())
            waited = time.monotonic() - started
            other.rollback()
        db.session.remove()
        assert sorted(claimed) == sorted(due_feeds[1:])
        assert waited < 2  # skipped, not waited for
        # Once released, the held feed is due and claimable.
        assert claim_due_feed_ids(10, utcnow()) == [held]
        db.session.remove()
