"""Helpers for the entry tests: read a user's entries, post the entry form."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def entries(app: Any, user_id: int) -> list[Any]:
    from app.extensions import db
    from app.models import TimeEntry

    with app.app_context():
        query = sa.select(TimeEntry).where(TimeEntry.user_id == user_id).order_by(TimeEntry.start)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def add(client: Any, **fields: str) -> Any:
    data = {"day": "2026-03-24", "start": "09:00", "description": "Standup"} | fields
    return client.post("/entries/", data=data)
