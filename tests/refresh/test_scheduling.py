"""Who runs refreshes: claims, the worker loop, the CLI, background dispatch."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.models import Feed, utcnow
from tests.refresh.conftest import FEED_PATH, THREE, TOKEN, ics
from tests.support.feed_server import FeedServer

PAGE = "/settings/time-tracking/impulses"


def test_claim_takes_due_feeds_once(
    app: Flask, make_user: Any, make_feed: Any, feed_url: str, query: Any
) -> None:
    from app.refresh.scheduler import claim_due_feed_ids

    user = make_user()
    now = utcnow()
    due = make_feed(user, feed_url, name="due")
    later = make_feed(user, feed_url + "?2", name="later", next_refresh_at=now + timedelta(hours=1))
    paused = make_feed(user, feed_url + "?3", name="paused", paused=True)
    leased = make_feed(
        user,
        feed_url + "?4",
        name="leased",
        lease_owner="w",
        lease_expires_at=now + timedelta(minutes=5),
    )

    now = utcnow()
    first = query(lambda s: claim_due_feed_ids(10, now, session=s))
    second = query(lambda s: claim_due_feed_ids(10, now, session=s))

    assert first == [due]
    assert second == []
    assert {later, paused, leased}.isdisjoint(first)
    assert query(lambda s: s.get(Feed, due).next_refresh_at) > now


def test_claim_hands_out_the_slowest_feeds_first(
    app: Flask, make_user: Any, make_feed: Any, feed_url: str, query: Any
) -> None:
    from app.refresh.scheduler import claim_due_feed_ids

    user = make_user()
    durations = {"quick": 40, "slow": 3_000, "new": None, "middling": 250}
    ids = {
        name: make_feed(user, f"{feed_url}?{name}", name=name, last_duration_ms=ms)
        for name, ms in durations.items()
    }

    claimed = query(lambda s: claim_due_feed_ids(10, utcnow(), session=s))

    # Never refreshed first (a full import), then by the last refresh's length.
    assert claimed == [ids["new"], ids["slow"], ids["middling"], ids["quick"]]


def test_claims_from_two_threads_never_overlap(
    app: Flask, make_user: Any, make_feed: Any, feed_url: str
) -> None:
    from app.extensions import db
    from app.refresh.scheduler import claim_due_feed_ids

    user = make_user()
    ids = {make_feed(user, f"{feed_url}?n={n}", name=f"f{n}") for n in range(12)}
    claimed: list[list[int]] = []
    start = threading.Barrier(3)

    def claim() -> None:
        with app.app_context():
            start.wait()
            try:
                for _ in range(6):
                    claimed.append(claim_due_feed_ids(2, utcnow()))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=claim) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    flat = [feed_id for batch in claimed for feed_id in batch]
    assert sorted(flat) == sorted(ids)


def test_cli_refresh_prints_a_line_per_feed_without_the_link(
    runner: Any, feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any
) -> None:
    from app.refresh.cli import refresh

    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(make_user(), feed_url)

    result = runner.invoke(refresh, [str(feed_id)])
    again = runner.invoke(refresh, ["--all", "--full"])
    due = runner.invoke(refresh, ["--due"])

    assert result.exit_code == 0, result.output
    assert f"feed {feed_id}: ok (new 3, changed 0, removed 0, unchanged 0)" in result.output
    assert again.exit_code == 0 and f"feed {feed_id}: ok" in again.output
    assert "No feeds to refresh" in due.output
    for output in (result.output, again.output):
        assert TOKEN not in output and "localhost" not in output
    assert runner.invoke(refresh, []).exit_code == 2


def test_cli_refresh_exit_status_on_failure(
    runner: Any, feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any
) -> None:
    from app.refresh.cli import refresh

    feed_server.route(FEED_PATH, status=500, body="no")
    feed_id = make_feed(make_user(), feed_url)

    result = runner.invoke(refresh, [str(feed_id), "999"])

    assert result.exit_code == 1
    assert f"feed {feed_id}: error [http_server]" in result.output
    assert "feed 999: no such feed" in result.output
    assert TOKEN not in result.output


def test_worker_once_refreshes_due_feeds(
    runner: Any, feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, query: Any
) -> None:
    from app.refresh.cli import worker

    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(make_user(), feed_url)

    result = runner.invoke(worker, ["--once"])

    assert result.exit_code == 0, result.output
    assert f"feed {feed_id}: ok" in result.output
    assert query(lambda s: s.get(Feed, feed_id).progress) == "done"


def test_embedded_scheduler_refreshes_and_wakes_on_request(
    app: Flask, feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, query: Any
) -> None:
    from app.refresh.dispatch import dispatch_refresh
    from app.refresh.scheduler import start_embedded_scheduler, stop_embedded_scheduler

    feed_server.route(FEED_PATH, body=ics(*THREE), etag='"v1"')
    feed_id = make_feed(make_user(), feed_url)
    assert start_embedded_scheduler(app) is None  # off in tests
    app.config["TIMEPULSE_SCHEDULER"] = True
    scheduler = start_embedded_scheduler(app)
    assert scheduler is not None
    try:
        _wait_for(lambda: query(lambda s: s.get(Feed, feed_id).progress) == "done")
        _wait_for(lambda: not scheduler.busy.is_set())  # asleep until the next feed is due
        with app.app_context():
            from app.extensions import db

            feed = db.session.get(Feed, feed_id)
            feed.next_refresh_at = utcnow()
            db.session.commit()
            db.session.remove()
        assert dispatch_refresh(app, feed_id).how == "scheduler"
        _wait_for(lambda: feed_server.hits(FEED_PATH) == 2)
    finally:
        stop_embedded_scheduler(app)
    assert not scheduler.thread.is_alive()


@pytest.mark.parametrize("quick_is_due", [False, True], ids=["not-due", "due-with-the-slow-one"])
def test_refresh_now_does_not_wait_behind_a_slow_server_the_scheduler_is_waiting_on(
    quick_is_due: bool,
    app: Flask,
    client: FlaskClient,
    user_id: int,
    feed_server: FeedServer,
    make_feed: Any,
    query: Any,
) -> None:
    """The embedded thread is stuck on a server that has not answered (it
    could take a minute to time out); the feed the user asked for is
    refreshed meanwhile, and the slow one still ends normally.

    When both were due, the thread claimed both, but a feed known to be slow
    is refreshed in a batch of its own: the other is not leased yet, and the
    user's refresh takes it."""
    from app.refresh.scheduler import start_embedded_scheduler, stop_embedded_scheduler

    gate = threading.Event()
    slow_path, quick_path = f"/slow/{TOKEN}/calendar.ics", f"/quick/{TOKEN}/calendar.ics"
    feed_server.route(slow_path, body=ics(*THREE), hold=gate)
    feed_server.route(quick_path, body=ics(*THREE))
    due = utcnow() if quick_is_due else utcnow() + timedelta(hours=1)
    slow = make_feed(user_id, feed_server.url(slow_path), name="Slow", last_duration_ms=20_000)
    quick = make_feed(
        user_id, feed_server.url(quick_path), name="Quick", next_refresh_at=due,
        last_duration_ms=80,
    )  # fmt: skip
    app.config["TIMEPULSE_REFRESH_INLINE"] = False
    app.config["TIMEPULSE_SCHEDULER"] = True
    scheduler = start_embedded_scheduler(app)
    assert scheduler is not None
    try:
        _wait_for(lambda: feed_server.hits(slow_path) == 1)
        assert query(lambda s: s.get(Feed, slow).progress) == "fetching"

        assert client.post(f"{PAGE}/{quick}/refresh").status_code == 302

        _wait_for(lambda: query(lambda s: s.get(Feed, quick).progress) == "done")
        assert query(lambda s: s.get(Feed, slow).progress) == "fetching"
    finally:
        gate.set()
        _wait_for(lambda: query(lambda s: s.get(Feed, slow).progress) == "done")
        stop_embedded_scheduler(app)
    assert query(lambda s: s.get(Feed, quick).event_count) == 3
    # A due one was claimed by the thread too, which refreshes it once more
    # when it gets there (finding nothing new).
    assert feed_server.hits(quick_path) == (2 if quick_is_due else 1)


def test_refresh_now_runs_in_the_background_and_the_page_polls(
    app: Flask,
    client: FlaskClient,
    user_id: int,
    feed_server: FeedServer,
    feed_url: str,
    make_feed: Any,
) -> None:
    app.config["TIMEPULSE_REFRESH_INLINE"] = False
    feed_server.route(FEED_PATH, body=ics(*THREE), delay=0.5)
    feed_id = make_feed(user_id, feed_url)

    started = time.monotonic()
    response = client.post(f"{PAGE}/{feed_id}/refresh")
    assert response.status_code == 302
    assert time.monotonic() - started < 0.5  # returned before the server even answered

    page = client.get(f"{PAGE}/{feed_id}").get_data(as_text=True)
    assert "feeds.js" in page and "data-feed-status" in page
    seen = set()

    def done() -> bool:
        status = client.get(f"{PAGE}/{feed_id}/status").get_json()
        seen.add(status["progress"])
        return bool(status["progress"] == "done")

    _wait_for(done)
    assert seen & {"queued", "fetching"}
    assert client.get(f"{PAGE}/{feed_id}/status").get_json()["counts"]["new"] == 3


def _wait_for(condition: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail("condition not met in time")
