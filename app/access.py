"""Load-or-404, scoped to the current user: the only way views fetch by id."""

from __future__ import annotations

from typing import TypeVar

from flask import abort
from flask_login import current_user

from app.extensions import db

M = TypeVar("M")


def get_owned(model: type[M], object_id: int) -> M:
    """The object with ``object_id`` if it belongs to the current user, else 404.

    Someone else's object answers exactly like a missing one, so ids leak
    nothing.
    """
    obj = db.session.get(model, object_id)
    if obj is None or getattr(obj, "user_id", None) != current_user.id:
        abort(404)
    return obj
