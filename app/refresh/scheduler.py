"""Refreshing due feeds in the background: the embedded thread and the worker loop.

In the embedded default ``timepulse run`` starts one daemon thread that
claims due feeds, refreshes them in batches through ``refresh_feeds`` and
sleeps until the next one is due — or until ``wake_scheduler`` says a user
pressed "Refresh now" (while it is busy with a batch, that refresh runs in a
thread of its own instead). ``timepulse worker`` runs the same loop standalone.
With a broker configured (Celery) web processes run no scheduler at all;
beat reuses ``claim_due_feeds``.

Claiming moves a feed's ``next_refresh_at`` a lease-length ahead so two
claimers (or two beat ticks) do not both pick it; the lease taken in
``refresh_feeds`` is what finally guarantees one refresh at a time, and the
claim expiring is what lets a crashed worker's feed come back.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask

from app.extensions import db
from app.models import Feed, utcnow
from app.refresh.refresh import LEASE_SECONDS, RefreshResult, refresh_feeds

log = logging.getLogger("timepulse.refresh")

_EXTENSION = "timepulse.scheduler"
BATCH = 10
IDLE_MAX = 60.0
# A feed whose last refresh took this long (ms) is refreshed in a batch of its own.
SLOW_MS = 1000


def worker_name(role: str) -> str:
    """A lease owner name: host, process and role (never anything secret)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{role}"


def claim_due_feed_ids(
    limit: int,
    now: datetime,
    *,
    session: so.Session | None = None,
    claim_seconds: int = LEASE_SECONDS,
) -> list[int]:
    """Ids of up to ``limit`` due feeds, claimed for ``claim_seconds``; commits.

    ``claim_due_feeds`` without the durations.
    """
    claimed = claim_due_feeds(limit, now, session=session, claim_seconds=claim_seconds)
    return [feed_id for feed_id, _ in claimed]


def claim_due_feeds(
    limit: int,
    now: datetime,
    *,
    session: so.Session | None = None,
    claim_seconds: int = LEASE_SECONDS,
) -> list[tuple[int, int | None]]:
    """Up to ``limit`` due feeds, claimed for ``claim_seconds``, as (id, how
    many milliseconds its last refresh took, if known); commits.

    Which feeds are due first decides who is claimed; the ids come back
    slowest first (``_slowest_first``), the order to hand them out in.

    Due means: ``next_refresh_at <= now``, not paused, a subscription, and no
    live lease. On PostgreSQL the rows are locked ``FOR UPDATE SKIP LOCKED``
    so concurrent claimers take different feeds without waiting; SQLite has
    a single writer, so the plain path is already serialised.
    """
    session = session or db.session
    due = sa.and_(
        Feed.next_refresh_at <= now,
        sa.not_(Feed.paused),
        Feed.kind == "url",
        sa.or_(Feed.lease_owner.is_(None), Feed.lease_expires_at < now),
    )
    candidates = sa.select(Feed.id).where(due).order_by(Feed.next_refresh_at, Feed.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # One UPDATE … RETURNING: atomic on both backends, so two claimers can
    # never both get a feed (SQLite runs it under its single write lock).
    claimed = session.execute(
        sa.update(Feed)
        .where(Feed.id.in_(candidates), due)
        .values(next_refresh_at=now + timedelta(seconds=claim_seconds), progress="queued")
        .returning(Feed.id, Feed.last_duration_ms)
        .execution_options(synchronize_session=False)
    ).all()
    session.commit()
    return sorted(((feed_id, ms) for feed_id, ms in claimed), key=_slowest_first)


def _slowest_first(claimed: tuple[int, int | None]) -> tuple[bool, int, int]:
    """Order for handing out claimed feeds: longest last refresh first.

    Workers that take a batch in this order start waiting on slow servers
    (and timeouts) while the others are still being refreshed, instead of
    ending the cycle with them (longest-processing-time-first scheduling).
    A feed never refreshed comes first: its first import is the most work.
    """
    feed_id, duration = claimed
    return (duration is not None, -(duration or 0), feed_id)


def batches(claimed: list[tuple[int, int | None]], size: int) -> list[list[int]]:
    """Batches for ``refresh_feeds`` from claimed (id, last duration) pairs,
    slowest first: each slow feed alone, the others dealt into batches of at
    most ``size``.

    The feeds of a batch wait for each other (its lease is taken for all at
    once), so a slow server — up to the fetch timeout — would hold back the
    rest of its batch, "Refresh now" included.
    """
    slow = [[feed_id] for feed_id, ms in claimed if ms is not None and ms >= SLOW_MS]
    rest = [feed_id for feed_id, ms in claimed if ms is None or ms < SLOW_MS]
    return slow + deal(rest, size)


def deal(ids: list[int], size: int) -> list[list[int]]:
    """``ids`` (slowest first) dealt round-robin into batches of at most ``size``.

    Dealing, rather than cutting the list, spreads the slower feeds over the
    batches, so no batch waits on several of them in turn; each batch stays
    slowest first, and the batches come out slowest first.
    """
    count = -(-len(ids) // size)
    return [ids[start::count] for start in range(count)]


def refresh_due_feeds(
    app: Flask, *, worker_id: str, limit: int = BATCH, now: datetime | None = None
) -> list[RefreshResult]:
    """Claim due feeds and refresh them in ``batches``, in a fresh app context."""
    with app.app_context():
        try:
            claimed = claim_due_feeds(limit, now or utcnow())
            return [
                result
                for batch in batches(claimed, limit)
                for result in refresh_feeds(batch, worker_id=worker_id)
            ]
        finally:
            db.session.remove()


def seconds_until_due(app: Flask, now: datetime | None = None, idle_max: float = IDLE_MAX) -> float:
    """How long the loop may sleep: until the next feed is due, at most ``idle_max``."""
    with app.app_context():
        try:
            due = db.session.scalar(
                sa.select(sa.func.min(Feed.next_refresh_at)).where(
                    sa.not_(Feed.paused), Feed.kind == "url"
                )
            )
        finally:
            db.session.remove()
    if due is None:
        return idle_max
    if due.tzinfo is None:  # min() bypasses the column type on SQLite
        due = datetime.fromisoformat(str(due)).replace(tzinfo=(now or utcnow()).tzinfo)
    wait = (due - (now or utcnow())).total_seconds()
    return max(1.0, min(idle_max, wait))


def run_loop(
    app: Flask,
    *,
    worker_id: str,
    stop: threading.Event,
    wake: threading.Event | None = None,
    busy: threading.Event | None = None,
    batch: int = BATCH,
    idle_max: float = IDLE_MAX,
) -> None:
    """Refresh due feeds until ``stop`` is set; ``wake`` cuts a sleep short,
    and ``busy`` is set except while the loop sleeps."""
    wake = wake or threading.Event()
    busy = busy or threading.Event()
    while not stop.is_set():
        busy.set()
        try:
            results = refresh_due_feeds(app, worker_id=worker_id, limit=batch)
            delay = 0.0 if results else seconds_until_due(app, idle_max=idle_max)
        except Exception:  # keep the loop alive; refresh_feed already records feed errors
            log.exception("refresh loop: a round failed; retrying in %s s", idle_max)
            delay = idle_max
        if delay:
            busy.clear()
            wake.wait(delay)
            wake.clear()


@dataclass
class EmbeddedScheduler:
    """The background thread of ``timepulse run`` and its controls."""

    thread: threading.Thread
    stop: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)
    busy: threading.Event = field(default_factory=threading.Event)


def start_embedded_scheduler(app: Flask) -> EmbeddedScheduler | None:
    """Start the refresh thread when enabled and no broker is configured (else None)."""
    if not app.config.get("TIMEPULSE_SCHEDULER") or app.config.get("TIMEPULSE_BROKER_URL"):
        return None
    existing: EmbeddedScheduler | None = app.extensions.get(_EXTENSION)
    if existing is not None and existing.thread.is_alive():
        return existing
    stop, wake, busy = threading.Event(), threading.Event(), threading.Event()
    thread = threading.Thread(
        target=run_loop,
        kwargs={
            "app": app,
            "worker_id": worker_name("embedded"),
            "stop": stop,
            "wake": wake,
            "busy": busy,
        },
        name="timepulse-refresh",
        daemon=True,
    )
    scheduler = EmbeddedScheduler(thread, stop, wake, busy)
    app.extensions[_EXTENSION] = scheduler
    thread.start()
    log.info("refresh scheduler started")
    return scheduler


def wake_scheduler(app: Flask) -> bool:
    """Wake the embedded thread (a feed became due now); False when none runs
    or when it is busy refreshing a batch.

    A batch may hold a server that answers only at its timeout (a minute):
    a feed the user asked for would wait behind it, so while the thread is
    busy the caller refreshes the feed itself. Should the thread claim the
    feed meanwhile, the lease lets only one of them refresh at a time.
    """
    scheduler: EmbeddedScheduler | None = app.extensions.get(_EXTENSION)
    if scheduler is None or not scheduler.thread.is_alive() or scheduler.busy.is_set():
        return False
    scheduler.wake.set()
    return True


def stop_embedded_scheduler(app: Flask, timeout: float = 10.0) -> None:
    scheduler: EmbeddedScheduler | None = app.extensions.pop(_EXTENSION, None)
    if scheduler is None:
        return
    scheduler.stop.set()
    scheduler.wake.set()
    scheduler.thread.join(timeout)
