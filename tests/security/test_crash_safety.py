"""A refresh killed between fetch and commit leaves the database exactly as before.

A real second process (``crash_worker.py``) refreshes a feed that has good
data and a tracked time entry, against the same database, from the real
HTTPS server serving a changed calendar (new, moved and vanished events). It
stops after reconcile has sent all its writes, or just before the final
commit, and is killed with SIGKILL. Then:

* every row of every table is as before — except the lease and the progress
  word, which a refresh commits on its own before it starts and which the
  dead worker could not give back;
* the lease blocks another refresh until it expires; after that, a refresh
  applies the changed calendar normally.

Runs on SQLite (a file, with its journal) and on PostgreSQL when
TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from app.models import utcnow
from app.refresh.refresh import refresh_feed
from tests.security import tally
from tests.security.crash_worker import LEASE_SECONDS, POINTS
from tests.security.resilience import (
    REFRESH_BOOKKEEPING,
    add_url_feed,
    calendar,
    changed_rows,
    ics_events,
    snapshot,
)
from tests.support.feed_server import FeedServer

ROOT = Path(__file__).resolve().parents[2]
PATH = "/owa/calendar/crash/calendar.ics"
BEFORE = calendar(ics_events(1500, prefix="ev"))
# 1,500 → 1,400 of them with one moved (the tracked one), plus 200 new:
# inserts, updates, soft removals and a flagged entry, over several batches.
AFTER = calendar(
    ics_events(1, prefix="ev").replace("T08", "T07"),
    ics_events(1399, first_uid=1, prefix="ev"),
    ics_events(200, prefix="new"),
)
MARKER_WAIT = 180.0


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TIMEPULSE_ALLOW_PRIVATE_FEEDS": True, "TIMEPULSE_LEASE_SECONDS": LEASE_SECONDS}


def _refresh(app: Flask, feed_id: int, **kwargs: Any) -> Any:
    from app.extensions import db

    with app.app_context():
        try:
            return refresh_feed(feed_id, worker_id="crash-test", **kwargs)
        finally:
            db.session.remove()


def _track_first(app: Flask, feed_id: int) -> None:
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Feed, Occurrence, TimeEntry

    with app.app_context():
        occ = db.session.scalar(sa.select(Occurrence).where(Occurrence.uid == "ev0@timepulse.test"))
        feed = db.session.get(Feed, feed_id)
        db.session.add(TimeEntry(user_id=feed.user_id, start=occ.start, end=occ.end,
                                 description="tracked", occurrence_id=occ.id))  # fmt: skip
        db.session.commit()
        db.session.remove()


def _run_until_marker(app: Flask, feed_id: int, point: str, tmp_path: Path) -> None:
    """Start the worker process, wait for its marker, SIGKILL it."""
    marker = tmp_path / f"{point}.reached"
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.security.crash_worker",
            url,
            str(feed_id),
            str(marker),
            point,
        ],
        cwd=ROOT,
        env=os.environ.copy(),  # TIMEPULSE_INSTANCE, REQUESTS_CA_BUNDLE from the fixtures
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + MARKER_WAIT
        while not marker.exists():
            if worker.poll() is not None or time.monotonic() > deadline:
                _, err = worker.communicate(timeout=5) if worker.poll() is not None else (b"", b"")
                pytest.fail(f"worker never reached {point}: {err.decode()[-2000:]}")
            time.sleep(0.1)
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=30)
    assert worker.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", list(POINTS))
def test_a_refresh_killed_before_commit_changes_nothing(
    point: str, app: Flask, feed_server: FeedServer, make_user: Any, tmp_path: Path
) -> None:
    feed_server.route(PATH, body=BEFORE)
    feed_id = add_url_feed(app, make_user(), feed_server.url(PATH), "Work")
    assert _refresh(app, feed_id).counts.new == 1500
    _track_first(app, feed_id)
    feed_server.route(PATH, body=AFTER)
    before = snapshot(app, ignore=REFRESH_BOOKKEEPING)

    _run_until_marker(app, feed_id, point, tmp_path)

    after = snapshot(app, ignore=REFRESH_BOOKKEEPING)
    lost = changed_rows(before, after, before) + changed_rows(after, before, after)
    tally.record(bad_inputs=1)
    tally.lost(lost, f"refresh killed at {point}")
    assert after == before

    # The dead worker's lease holds the feed until it expires, then a refresh works.
    assert _refresh(app, feed_id).outcome == "skipped"
    later = utcnow() + timedelta(seconds=LEASE_SECONDS + 1)
    result = _refresh(app, feed_id, now=later)
    assert result.outcome == "ok", result.summary()
    counts = result.counts
    assert (counts.new, counts.changed, counts.removed, counts.unchanged) == (200, 1, 100, 1399)
