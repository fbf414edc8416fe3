"""Refreshing a batch of feeds (``refresh_feeds``): what the scheduler and workers run.

A batch shares its round trips: one UPDATE leases every feed, and on
PostgreSQL the records of its unchanged feeds go out together at the end.
Each feed still ends exactly as a refresh of its own would leave it.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from app.feeds.fetch import fetch_feed
from app.models import Feed, SyncRun, utcnow
from tests.refresh.conftest import THREE, TOKEN, Event, ics
from tests.support.feed_server import FeedServer


def _path(n: int) -> str:
    return f"/owa/calendar/batch{n}/{TOKEN}/calendar.ics"


@pytest.fixture
def imported(feed_server: FeedServer, make_user: Any, make_feed: Any, refresh: Any) -> list[int]:
    """Three feeds of three meetings, each imported once; each answers 304 to "v1"."""
    user = make_user()
    ids = []
    for n in range(3):
        feed_server.route(_path(n), body=ics(*THREE), etag='"v1"')
        ids.append(make_feed(user, feed_server.url(_path(n)), name=f"Feed {n}"))
        assert refresh(ids[-1]).outcome == "ok"
    return ids


@pytest.fixture
def refresh_batch(app: Any) -> Any:
    def run(feed_ids: list[int], **kwargs: Any) -> Any:
        from app.extensions import db
        from app.refresh.refresh import refresh_feeds

        with app.app_context():
            try:
                return refresh_feeds(feed_ids, worker_id="batch", **kwargs)
            finally:
                db.session.remove()

    return run


@pytest.fixture
def statements(app: Any) -> Any:
    """The first word of every statement sent while the test runs (executemany: once)."""
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(engine, "before_cursor_execute", note)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", note)


def _runs(query: Any, feed_id: int) -> list[str]:
    select = sa.select(SyncRun.outcome).where(SyncRun.feed_id == feed_id).order_by(SyncRun.id)
    return list(query(lambda s: s.scalars(select).all()))


def _feed(query: Any, feed_id: int) -> Feed:
    return query(lambda s: s.get(Feed, feed_id))


def test_a_batch_of_unchanged_feeds_shares_its_lease_and_its_records(
    monkeypatch: pytest.MonkeyPatch,
    app: Any,
    imported: list[int],
    refresh_batch: Any,
    statements: list[str],
    query: Any,
) -> None:
    from app.refresh import refresh as refreshing

    monkeypatch.setattr(refreshing.random, "randrange", lambda _: 1)  # no history trim
    with app.app_context():
        postgres = refreshing.db.engine.dialect.name == "postgresql"

    results = refresh_batch(imported)

    assert [(r.feed_id, r.outcome) for r in results] == [(i, "unchanged") for i in imported]
    # One UPDATE leases all three; PostgreSQL then records them in one round trip
    # (one executemany), SQLite (no round trips to save) feed by feed.
    assert statements == (
        ["UPDATE", "WITH"] if postgres else ["UPDATE"] + ["UPDATE", "INSERT"] * len(imported)
    )
    for feed_id in imported:
        assert _runs(query, feed_id) == ["ok", "unchanged"]
        feed = _feed(query, feed_id)
        assert feed.lease_owner is None and feed.lease_expires_at is None
        assert feed.progress == "done" and feed.failure_count == 0
    unchanged = query(
        lambda s: s.scalars(sa.select(SyncRun.unchanged).where(SyncRun.outcome == "unchanged"))
    )
    assert list(unchanged) == [len(THREE)] * len(imported)


def test_a_batch_refreshes_each_feed_as_a_refresh_of_its_own_would(
    feed_server: FeedServer,
    imported: list[int],
    refresh_batch: Any,
    query: Any,
) -> None:
    # One changed, one failing, one unchanged: each ends as it would alone.
    feed_server.route(_path(0), body=ics(*THREE, Event("d@test", "Added", day=4)), etag='"v2"')
    feed_server.route(_path(1), status=500, body="Internal Server Error")

    results = refresh_batch(imported)

    assert [r.outcome for r in results] == ["ok", "error", "unchanged"]
    assert results[0].counts is not None and results[0].counts.new == 1
    assert [_runs(query, i)[-1] for i in imported] == ["ok", "error", "unchanged"]
    assert _feed(query, imported[1]).failure_count == 1
    assert all(_feed(query, i).lease_owner is None for i in imported)


def test_a_feed_another_refresh_holds_is_skipped_and_left_alone(
    app: Any,
    imported: list[int],
    refresh_batch: Any,
    query: Any,
) -> None:
    from datetime import timedelta

    from app.extensions import db

    held = imported[1]
    expires = utcnow() + timedelta(minutes=5)
    with app.app_context():
        db.session.execute(
            sa.update(Feed)
            .where(Feed.id == held)
            .values(lease_owner="someone-else", lease_expires_at=expires)
        )
        db.session.commit()
        db.session.remove()

    results = refresh_batch(imported)

    assert [r.outcome for r in results] == ["unchanged", "skipped", "unchanged"]
    assert _runs(query, held) == ["ok"]
    assert _feed(query, held).lease_owner == "someone-else"


def test_a_feed_deleted_while_its_batch_runs_leaves_no_trace(
    app: Any,
    imported: list[int],
    refresh_batch: Any,
    query: Any,
) -> None:
    # Deleted after its 304 was fetched: before the batch recorded it (on
    # PostgreSQL, at the batch's end), or as it is recorded (SQLite, at once).
    from app.extensions import db

    with app.app_context():
        engine = db.engine
    doomed = imported[0]
    fetched_urls: list[str] = []

    def fetch_then_delete(url: str, **kwargs: Any) -> Any:
        fetched = fetch_feed(url, **kwargs)
        fetched_urls.append(url)
        if len(fetched_urls) == 1:
            with engine.begin() as connection:  # the user deletes the first feed meanwhile
                connection.execute(sa.delete(Feed).where(Feed.id == doomed))
        return fetched

    results = refresh_batch(imported, fetch=fetch_then_delete)

    assert [r.outcome for r in results] == ["skipped", "unchanged", "unchanged"]
    assert results[0].error_message == "gone"
    assert query(lambda s: s.get(Feed, doomed)) is None
    count = sa.select(sa.func.count(SyncRun.id)).where(SyncRun.feed_id == doomed)
    assert query(lambda s: s.scalar(count)) == 0
    assert [_runs(query, i) for i in imported[1:]] == [["ok", "unchanged"]] * 2


def test_feeds_done_before_a_batch_breaks_off_are_recorded(
    imported: list[int],
    refresh_batch: Any,
    query: Any,
) -> None:
    # Something no refresh catches (here a KeyboardInterrupt in the second
    # fetch) ends the batch: the first feed's record is still written, the
    # others keep their lease until it expires.
    calls: list[str] = []

    def fetch_then_stop(url: str, **kwargs: Any) -> Any:
        calls.append(url)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return fetch_feed(url, **kwargs)

    with pytest.raises(KeyboardInterrupt):
        refresh_batch(imported, fetch=fetch_then_stop)

    assert _runs(query, imported[0]) == ["ok", "unchanged"]
    assert _feed(query, imported[0]).lease_owner is None
    assert _runs(query, imported[2]) == ["ok"]
    assert _feed(query, imported[2]).lease_owner == "batch"


def test_the_benchmark_splits_a_batch_feed_by_feed_and_the_shares_add_up(
    monkeypatch: pytest.MonkeyPatch,
    app: Any,
    imported: list[int],
    refresh_batch: Any,
    statements: list[str],
) -> None:
    # bench.attribution hears refresh_feeds' signals in the refreshing thread.
    from app.refresh import refresh as refreshing
    from bench import attribution

    monkeypatch.setattr(refreshing.random, "randrange", lambda _: 1)  # no history trim

    with attribution.measuring(lambda: {"statements": float(len(statements))}) as meter:
        refresh_batch(imported)
        costs = meter.costs()

    assert [result.feed_id for result, _ in costs] == imported
    shares = [cost["statements"] for _, cost in costs]
    assert sum(shares) == pytest.approx(len(statements))
    with app.app_context():
        postgres = app.extensions["sqlalchemy"].engine.dialect.name == "postgresql"
    if postgres:  # nothing of its own: a third of the lease and of the records each
        assert shares == pytest.approx([2 / 3] * 3)
    else:  # its own UPDATE and INSERT, and a third of the lease
        assert shares == pytest.approx([2 + 1 / 3] * 3)


def test_a_batch_past_half_its_lease_puts_the_rest_back_in_the_queue(
    app: Any, imported: list[int], refresh_batch: Any, query: Any
) -> None:
    # Slow servers could keep a batch going until the later feeds' leases
    # expire and another worker takes them over in the middle: past half the
    # lease, the feeds not started yet are released and due again at once.
    import time

    app.config["TIMEPULSE_LEASE_SECONDS"] = 2

    def slow_fetch(url: str, **kwargs: Any) -> Any:
        time.sleep(1.2)
        return fetch_feed(url, **kwargs)

    before = utcnow()
    results = refresh_batch(imported, fetch=slow_fetch)

    assert [r.outcome for r in results] == ["unchanged", "skipped", "skipped"]
    assert "queued again" in (results[1].error_message or "")
    assert _runs(query, imported[0]) == ["ok", "unchanged"]
    for feed_id in imported[1:]:
        assert _runs(query, feed_id) == ["ok"]
        feed = _feed(query, feed_id)
        assert feed.lease_owner is None and feed.progress == "queued"
        assert before <= feed.next_refresh_at <= utcnow()
