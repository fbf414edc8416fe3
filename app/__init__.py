"""Timepulse: time tracking fed by the calendar you already keep.

``create_app`` is the only way to get an application: extensions are bound
there, each feature package registers its blueprint, and nothing runs at
import time. It is imported lazily so that the feed engine (``app.feeds``)
can be used by a worker or the CLI without loading Flask and SQLAlchemy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``test_config`` overrides the environment (tests)."""
    from app.factory import create_app as build

    return build(test_config)
