"""Celery at scale: workers refresh feeds, beat enqueues the due ones.

    celery -A app.celery_app worker      # any number, on any machine
    celery -A app.celery_app beat        # exactly one

The broker is ``TIMEPULSE_BROKER_URL`` (Redis). Importing this module only
configures Celery: the Flask app is built lazily, once per worker process,
the first time a task needs it (``_flask_app``), and database connections
inherited through ``fork`` are dropped in every new pool process.

Tasks carry feed ids only — the feed URL is a secret and never enters the
broker. Beat's tick sends batches of due feeds to ``refresh_feeds``, as the
embedded scheduler refreshes its batches; "Refresh now" sends one feed to
``refresh_feed``. Delivery is at-least-once
(``acks_late``; a task whose worker died is requeued), and the feed's lease
makes a second delivery harmless: it is skipped while the first holds the
lease, finds nothing new after it, and takes over once a dead worker's lease
has expired. If a message is lost altogether, the claim that beat made
expires (``TIMEPULSE_CLAIM_SECONDS``) and the next tick enqueues the feed
again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_ready, worker_shutdown
from flask import Flask

log = logging.getLogger("timepulse.celery")

DEFAULT_LEASE_SECONDS = 10 * 60
CLAIM_BATCH = 500
# Beat sends the due feeds in tasks of about this many ids: a batch shares
# its lease statement and (on PostgreSQL) the round trip of its unchanged
# feeds' records, and the broker carries a tenth of the messages.
TASK_BATCH = 10
# One tick enqueues at most this many feeds; the rest wait for the next tick,
# so an overloaded cluster does not pile up an unbounded queue.
ENQUEUE_MAX = 20_000


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _lease_seconds() -> int:
    # Read here, at import, because Celery is configured before any Flask
    # app exists; the app reads the same variable in load_config.
    return _env_int("TIMEPULSE_LEASE_SECONDS", DEFAULT_LEASE_SECONDS)


def _configure(app: Celery) -> None:
    lease = _lease_seconds()
    app.conf.update(
        broker_url=os.environ.get("TIMEPULSE_BROKER_URL") or None,
        broker_connection_retry_on_startup=True,
        # A message whose worker vanished without acking comes back after
        # this long; it must outlast a normal refresh (the lease guards the rest).
        broker_transport_options={
            "visibility_timeout": _env_int("TIMEPULSE_BROKER_VISIBILITY_TIMEOUT", 2 * lease)
        },
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # A refresh stuck past its lease could overlap a takeover: stop it
        # first (the soft limit is recorded as a failed refresh, the lease released).
        task_soft_time_limit=int(lease * 0.8),
        task_time_limit=int(lease * 0.9),
        worker_hijack_root_logger=False,
        beat_schedule={
            "enqueue-due-feeds": {
                "task": "timepulse.enqueue_due_feeds",
                "schedule": float(_env_int("TIMEPULSE_BEAT_SECONDS", 60)),
            },
        },
    )


celery = Celery("timepulse")
_configure(celery)


_app: list[Flask] = []  # this process's Flask app, once built
_app_lock = threading.Lock()
# The worker's concurrency (``-c``), once the worker has started.
_concurrency: list[int] = []


def _flask_app() -> Flask:
    """The worker process's Flask app, built on first use (never at import).

    Locked: with ``--pool threads`` the first tasks arrive on several threads
    at once, and each app would bring its own engine and connection pool.
    """
    if not _app:
        with _app_lock:
            if not _app:
                from app import create_app

                # TIMEPULSE_LEASE_SECONDS and TIMEPULSE_CLAIM_SECONDS come from
                # load_config, from the same environment _configure read at import.
                _app.append(create_app({"TIMEPULSE_SCHEDULER": False, **_pool_settings()}))
    return _app[0]


def _pool_settings() -> dict[str, Any]:
    """A connection kept for every thread that may run a task at once.

    SQLAlchemy's pool keeps 5 connections and closes each further one when
    it comes back, so a ``--pool threads -c 8`` worker opened and closed a
    connection (a PostgreSQL backend, its prepared statements lost) every
    few tasks: about 100 in 8 busy seconds. A refresh uses one connection
    at a time. In prefork pool processes, which run one task at a time, the
    larger size only allows what is never opened.
    """
    if not _concurrency or _concurrency[0] <= _DEFAULT_POOL_SIZE:
        return {}
    return {"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": _concurrency[0]}}


_DEFAULT_POOL_SIZE = 5


@worker_init.connect
def _note_concurrency(sender: Any = None, **_: Any) -> None:
    concurrency = getattr(sender, "concurrency", None)
    if concurrency:
        _concurrency[:] = [int(concurrency)]


@worker_process_init.connect
def _forget_inherited_connections(**_: Any) -> None:
    """A forked pool process must not share its parent's database sockets."""
    if _app:
        from app.extensions import db

        with _app[0].app_context():
            db.engine.dispose(close=False)


# --- tasks ----------------------------------------------------------------------------


@contextmanager
def _task_context() -> Iterator[Flask]:
    """This process's app, in an app context for one task; the task's session
    is removed when it ends."""
    from app.extensions import db

    app = _flask_app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()


@celery.task(name="timepulse.refresh_feed")
def refresh_feed_task(feed_id: int) -> str:
    """Refresh one feed by id; returns the outcome (ok, unchanged, held, error, skipped)."""
    from app.refresh.refresh import refresh_feed
    from app.refresh.scheduler import worker_name

    with _task_context():
        return refresh_feed(int(feed_id), worker_id=worker_name("celery")).outcome


@celery.task(name="timepulse.refresh_feeds")
def refresh_feeds_task(feed_ids: list[int]) -> list[str]:
    """Refresh a batch of feeds by id (``refresh_feeds``); returns their outcomes."""
    from app.refresh.refresh import refresh_feeds
    from app.refresh.scheduler import worker_name

    ids = [int(feed_id) for feed_id in feed_ids]
    with _task_context():
        return [r.outcome for r in refresh_feeds(ids, worker_id=worker_name("celery"))]


@celery.task(name="timepulse.enqueue_due_feeds")
def enqueue_due_feeds() -> int:
    """Beat's tick: claim the due feeds and send them to the workers in batches.

    The claim (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) moves each feed's
    ``next_refresh_at`` ahead by ``TIMEPULSE_CLAIM_SECONDS``, so the next
    tick does not enqueue it again before a worker gets to it.
    """
    from app.models import utcnow
    from app.refresh.scheduler import batches, claim_due_feeds

    sent = 0
    with _task_context() as app:
        claim_seconds = int(app.config["TIMEPULSE_CLAIM_SECONDS"])
        while sent < ENQUEUE_MAX:
            limit = min(CLAIM_BATCH, ENQUEUE_MAX - sent)
            claimed = claim_due_feeds(limit, utcnow(), claim_seconds=claim_seconds)
            for batch in batches(claimed, TASK_BATCH):
                refresh_feeds_task.apply_async(args=[batch])
            sent += len(claimed)
            if len(claimed) < limit:
                break
    if sent:
        log.info("enqueued %s due feed(s)", sent)
    return sent


def enqueue_refresh(feed_id: int) -> None:
    """Send one refresh task (the hook ``app.refresh.dispatch`` calls)."""
    refresh_feed_task.apply_async(args=[int(feed_id)])


# --- worker heartbeat -----------------------------------------------------------------

_heartbeat: dict[str, threading.Event] = {}


@worker_ready.connect
def _start_heartbeat(**_: Any) -> None:
    from app.heartbeat import redis_url, start_beating

    url = redis_url(os.environ)
    if url:
        _heartbeat["stop"] = start_beating(url)


@worker_shutdown.connect
def _stop_heartbeat(**_: Any) -> None:
    stop = _heartbeat.pop("stop", None)
    if stop is not None:
        stop.set()
