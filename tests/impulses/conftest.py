"""Factories for impulse tests: feeds and occurrences made directly in the database.

The refresh code that normally writes occurrences is someone else's; these
tests only need rows shaped the way reconcile stores them (aware UTC
instants; all-day occurrences at UTC midnight of their dates, end exclusive).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask


@pytest.fixture
def make_feed(app: Flask) -> Any:
    def make(user_id: int, name: str = "Work calendar", **extra: Any) -> int:
        from app.extensions import db
        from app.models import Feed

        with app.app_context():
            feed = Feed(
                user_id=user_id,
                name=name,
                url_fingerprint=uuid.uuid4().hex,
                url_masked="outlook.office365.com/…ics",
                **extra,
            )
            db.session.add(feed)
            db.session.commit()
            return feed.id

    return make


@pytest.fixture
def make_occurrence(app: Flask) -> Any:
    """An occurrence; ``start``/``end`` aware datetimes, or dates for an all-day one."""

    def make(
        user_id: int,
        feed_id: int,
        start: datetime | date,
        end: datetime | date | None = None,
        summary: str = "Standup",
        **extra: Any,
    ) -> int:
        from app.extensions import db
        from app.models import Occurrence

        all_day = not isinstance(start, datetime)
        if all_day:
            end = end or start + timedelta(days=1)
            start = datetime(start.year, start.month, start.day, tzinfo=UTC)
            end = datetime(end.year, end.month, end.day, tzinfo=UTC)  # type: ignore[union-attr]
        elif end is None:
            end = start + timedelta(minutes=30)
        values: dict[str, Any] = {
            "uid": f"{uuid.uuid4().hex}@example.com",
            "busy_status": "BUSY",
            "content_hash": uuid.uuid4().hex,
        }
        values.update(extra)
        with app.app_context():
            occ = Occurrence(
                user_id=user_id,
                feed_id=feed_id,
                start=start,
                end=end,
                all_day=all_day,
                summary=summary,
                **values,
            )
            db.session.add(occ)
            db.session.commit()
            return occ.id

    return make


@pytest.fixture
def feed_id(user_id: int, make_feed: Any) -> int:
    """A feed of the logged-in user."""
    return make_feed(user_id, colour="#d53f8c")


@pytest.fixture
def fetch(app: Flask) -> Any:
    """Read rows back: ``fetch(Model, id)`` or ``fetch(Model)`` for all rows, detached."""

    def get(model: Any, object_id: int | None = None) -> Any:
        import sqlalchemy as sa

        from app.extensions import db

        with app.app_context():
            if object_id is not None:
                obj = db.session.get(model, object_id)
                if obj is not None:
                    db.session.expunge(obj)
                return obj
            rows = list(db.session.scalars(sa.select(model).order_by(model.id)))
            for row in rows:
                db.session.expunge(row)
            return rows

    return get


@pytest.fixture
def update(app: Flask) -> Any:
    """Change columns of a row, as another part of the app (a refresh) would."""

    def change(model: Any, object_id: int, **values: Any) -> None:
        from app.extensions import db

        with app.app_context():
            obj = db.session.get(model, object_id)
            for name, value in values.items():
                setattr(obj, name, value)
            db.session.commit()

    return change


@pytest.fixture
def make_rule(app: Flask) -> Any:
    def make(user_id: int, field: str, operator: str, pattern: str, project_id: int) -> int:
        from app.extensions import db
        from app.impulses.rules import add_rule

        with app.app_context():
            rule = add_rule(
                user_id, field=field, operator=operator, pattern=pattern, project_id=project_id
            )
            db.session.commit()
            return rule.id

    return make
