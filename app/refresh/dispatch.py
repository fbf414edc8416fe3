"""Starting a refresh from a web request without waiting for it.

``dispatch_refresh`` returns at once. Where the refresh runs depends on the
deployment: a Celery worker when a broker is configured, the embedded
scheduler thread when it runs and is idle (it is woken), otherwise a
short-lived thread with its own app context. The feed is already marked
due and "queued" by the caller, so whichever runs it finds it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from flask import Flask

from app.extensions import db
from app.refresh.refresh import refresh_feed
from app.refresh.scheduler import wake_scheduler, worker_name

log = logging.getLogger("timepulse.refresh")


@dataclass(frozen=True)
class Dispatched:
    """How a refresh was started; ``thread`` is set for the background-thread path."""

    how: str  # celery, scheduler, thread, inline
    thread: threading.Thread | None = None


def dispatch_refresh(app: Flask, feed_id: int) -> Dispatched:
    """Start refreshing ``feed_id`` elsewhere and return immediately.

    ``TIMEPULSE_REFRESH_INLINE`` (tests, single-request tools) runs it in
    the caller instead.
    """
    if app.config.get("TIMEPULSE_BROKER_URL") and enqueue_with_celery(feed_id):
        return Dispatched("celery")
    if wake_scheduler(app):
        return Dispatched("scheduler")
    if app.config.get("TIMEPULSE_REFRESH_INLINE"):
        refresh_feed(feed_id, worker_id=worker_name("inline"))
        return Dispatched("inline")
    thread = threading.Thread(
        target=_refresh_in_thread, args=(app, feed_id), name=f"refresh-{feed_id}", daemon=True
    )
    thread.start()
    return Dispatched("thread", thread)


def enqueue_with_celery(feed_id: int) -> bool:
    """The Celery hook: hand the feed id (never the URL) to ``app.celery_app``.

    ``app/celery_app.py`` provides ``enqueue_refresh(feed_id: int) -> None``,
    which sends a task whose body calls ``refresh_feed(feed_id, worker_id=…)``.
    Returns False (and the caller falls back to a thread) while that module
    does not exist or the broker cannot be reached.
    """
    try:
        from app.celery_app import enqueue_refresh  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        log.warning("TIMEPULSE_BROKER_URL is set but app.celery_app is missing; refreshing here")
        return False
    from kombu.exceptions import OperationalError

    try:
        enqueue_refresh(feed_id)
    except OperationalError:  # broker down: the user still gets the refresh, from this process
        log.warning("feed %s: the broker is unreachable; refreshing here", feed_id)
        return False
    return True


def _refresh_in_thread(app: Flask, feed_id: int) -> None:
    with app.app_context():
        try:
            refresh_feed(feed_id, worker_id=worker_name(f"web-{threading.get_ident()}"))
        except Exception:  # the thread has no caller to tell; refresh_feed recorded what it could
            log.exception("feed %s: background refresh failed", feed_id)
        finally:
            db.session.remove()
