"""Refresh rules: skipping unchanged feeds, intervals, backoff, pausing, leases."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.feeds.fetch import fetch_feed
from app.models import Feed, SyncRun, utcnow
from tests.refresh.conftest import FEED_PATH, THREE, ics
from tests.support.feed_server import FeedServer, Response


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of the engine's parse entry point (a spy on our own code)."""
    from app.feeds import engine

    calls: list[int] = []
    real = engine.inspect_calendar

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "inspect_calendar", counting)
    return calls


@pytest.fixture
def imported_feed(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any
) -> int:
    """A feed of three meetings, imported once; its server answers 304 to the ETag "v1"."""
    feed_server.route(FEED_PATH, body=ics(*THREE), etag='"v1"')
    feed_id = make_feed(make_user(), feed_url)
    assert refresh(feed_id).outcome == "ok"
    return int(feed_id)


def feed_value(query: Any, feed_id: int, name: str) -> Any:
    return query(lambda s: getattr(s.get(Feed, feed_id), name))


def runs(query: Any, feed_id: int) -> list[tuple[str, str | None]]:
    return query(
        lambda s: [
            (r.outcome, r.error_kind)
            for r in s.scalars(
                sa.select(SyncRun).where(SyncRun.feed_id == feed_id).order_by(SyncRun.id)
            )
        ]
    )


def test_304_records_unchanged_without_parsing(
    feed_server: FeedServer,
    feed_url: str,
    make_user: Any,
    make_feed: Any,
    refresh: Any,
    query: Any,
    parses: list[int],
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE), etag='"v1"')
    feed_id = make_feed(make_user(), feed_url)
    assert refresh(feed_id).outcome == "ok"

    result = refresh(feed_id)

    assert result.outcome == "unchanged"
    assert result.http_status == 304
    assert len(parses) == 1
    assert feed_server.requests[-1].header("If-None-Match") == '"v1"'
    assert runs(query, feed_id) == [("ok", None), ("unchanged", None)]


def test_same_body_with_new_dtstamp_is_not_parsed(
    feed_server: FeedServer,
    feed_url: str,
    make_user: Any,
    make_feed: Any,
    refresh: Any,
    query: Any,
    parses: list[int],
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE, stamp="20250101T000000Z"))
    feed_id = make_feed(make_user(), feed_url)
    refresh(feed_id)
    feed_server.route(FEED_PATH, body=ics(*THREE, stamp="20250102T101010Z"))

    result = refresh(feed_id)

    assert result.outcome == "unchanged" and result.http_status == 200
    assert len(parses) == 1


def test_unchanged_refresh_of_a_quiet_feed_says_stale_and_ends_its_read(
    app: Any,
    query: Any,
    imported_feed: int,
) -> None:
    # The stale check reads through the session; the unchanged refresh writes
    # through a connection of its own, so that read must not stay open.
    from app.extensions import db
    from app.refresh.refresh import refresh_feed

    later = utcnow() + timedelta(days=30)

    with app.app_context():
        first = refresh_feed(imported_feed, worker_id="test", now=later)
        assert not db.session().in_transaction()
        second = refresh_feed(imported_feed, worker_id="test", now=later + timedelta(minutes=20))
        db.session.remove()

    assert (first.outcome, second.outcome) == ("unchanged", "unchanged")
    assert "stale_feed" in [d["code"] for d in feed_value(query, imported_feed, "diagnostics")]
    assert runs(query, imported_feed) == [("ok", None), ("unchanged", None), ("unchanged", None)]
    assert feed_value(query, imported_feed, "lease_owner") is None


def test_refresh_started_with_work_pending_in_the_session_commits_it_with_the_lease(
    app: Any,
    query: Any,
    imported_feed: int,
) -> None:
    # The lease's UPDATE must not wait behind the caller's own open write to
    # the same row (SQLite: the database lock; PostgreSQL: the row lock).
    from app.extensions import db
    from app.refresh.refresh import refresh_feed

    with app.app_context():
        db.session.execute(sa.update(Feed).where(Feed.id == imported_feed).values(name="Renamed"))
        result = refresh_feed(imported_feed, worker_id="test")
        db.session.remove()

    assert result.outcome == "unchanged"
    assert feed_value(query, imported_feed, "name") == "Renamed"
    assert feed_value(query, imported_feed, "lease_owner") is None


def test_unchanged_refreshes_trim_the_history_too(
    monkeypatch: pytest.MonkeyPatch,
    feed_server: FeedServer,
    feed_url: str,
    make_user: Any,
    make_feed: Any,
    refresh: Any,
    query: Any,
) -> None:
    from app.refresh import refresh as refreshing

    monkeypatch.setattr(refreshing, "KEEP_SYNC_RUNS", 2)
    monkeypatch.setattr(refreshing, "PRUNE_UNCHANGED_EVERY", 1)  # trim on every one
    feed_server.route(FEED_PATH, body=ics(*THREE), etag='"v1"')
    feed_id = make_feed(make_user(), feed_url)

    outcomes = [refresh(feed_id).outcome for _ in range(4)]

    assert outcomes == ["ok", "unchanged", "unchanged", "unchanged"]
    assert runs(query, feed_id) == [("unchanged", None), ("unchanged", None)]


def test_an_unchanged_refresh_costs_two_statements_on_postgresql(
    monkeypatch: pytest.MonkeyPatch,
    app: Any,
    refresh: Any,
    query: Any,
    imported_feed: int,
) -> None:
    # The cheapest refresh is most refreshes: the lease's UPDATE, then one
    # statement recording it (PostgreSQL), each in autocommit. SQLite, with
    # no writes inside WITH, records it in an UPDATE and an INSERT.
    from app.extensions import db
    from app.refresh import refresh as refreshing

    # Not the one unchanged refresh in PRUNE_UNCHANGED_EVERY that trims the history.
    monkeypatch.setattr(refreshing.random, "randrange", lambda _: 1)
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
        postgres = engine.dialect.name == "postgresql"

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        result = refresh(imported_feed)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)

    assert result.outcome == "unchanged" and result.counts.unchanged == 3
    assert statements == (["UPDATE", "WITH"] if postgres else ["UPDATE", "UPDATE", "INSERT"])
    assert runs(query, imported_feed) == [("ok", None), ("unchanged", None)]
    assert feed_value(query, imported_feed, "lease_owner") is None
    assert feed_value(query, imported_feed, "progress") == "done"


def test_a_feed_deleted_during_an_unchanged_refresh_leaves_no_trace(
    app: Any,
    refresh: Any,
    query: Any,
    imported_feed: int,
) -> None:
    from app.extensions import db

    with app.app_context():
        engine = db.engine

    def fetch_then_delete(url: str, **kwargs: Any) -> Any:
        fetched = fetch_feed(url, **kwargs)
        with engine.begin() as connection:  # the user deletes the feed meanwhile
            connection.execute(sa.delete(Feed).where(Feed.id == imported_feed))
        return fetched

    result = refresh(imported_feed, fetch=fetch_then_delete)

    assert result.outcome == "skipped"
    assert query(lambda s: s.scalar(sa.select(sa.func.count(SyncRun.id)))) == 0
    assert query(lambda s: s.get(Feed, imported_feed)) is None


@pytest.mark.parametrize(
    ("line", "seconds"),
    [
        ("REFRESH-INTERVAL;VALUE=DURATION:PT1M", 900),
        ("X-PUBLISHED-TTL:PT2H", 7200),
        ("X-PUBLISHED-TTL:P3D", 86400),
        ("", 900),
    ],
)
def test_feed_refresh_interval_is_honoured_within_limits(
    feed_server: FeedServer,
    feed_url: str,
    make_user: Any,
    make_feed: Any,
    refresh: Any,
    query: Any,
    line: str,
    seconds: int,
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE, extra=line))
    feed_id = make_feed(make_user(), feed_url)
    now = utcnow()

    refresh(feed_id, now=now)

    assert feed_value(query, feed_id, "refresh_interval") == seconds
    assert feed_value(query, feed_id, "next_refresh_at") == now + timedelta(seconds=seconds)


def test_failures_back_off_exponentially_with_jitter(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.route(FEED_PATH, status=503, body="busy")
    feed_id = make_feed(make_user(), feed_url)
    delays = []
    now = utcnow()
    for failures in range(1, 5):
        result = refresh(feed_id, now=now)
        assert result.outcome == "error" and result.error_kind == "http_server"
        delay = (feed_value(query, feed_id, "next_refresh_at") - now).total_seconds()
        expected = 900 * 2**failures
        assert 0.8 * expected <= delay <= 1.2 * expected
        delays.append(delay)
        now += timedelta(seconds=delay)
    assert delays == sorted(delays)
    assert feed_value(query, feed_id, "failure_count") == 4

    feed_server.route(FEED_PATH, body=ics(*THREE))
    refresh(feed_id, now=now)
    assert feed_value(query, feed_id, "failure_count") == 0
    assert feed_value(query, feed_id, "state") == "active"


def test_backoff_is_capped_at_a_day() -> None:
    from app.refresh.policy import backoff_seconds

    assert backoff_seconds(900, 30) <= 86400 * 1.2


def test_repeated_not_found_pauses_the_feed_and_says_why(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.script(FEED_PATH, [Response(body=ics(*THREE)), Response(status=404, body="gone")])
    feed_id = make_feed(make_user(), feed_url)
    refresh(feed_id)
    for _ in range(2):
        refresh(feed_id)
        assert feed_value(query, feed_id, "paused") is False

    refresh(feed_id)

    assert feed_value(query, feed_id, "state") == "paused"
    assert "not found" in feed_value(query, feed_id, "pause_reason")
    assert feed_value(query, feed_id, "last_error_kind") == "http_not_found"
    hits = feed_server.hits(FEED_PATH)
    assert refresh(feed_id).outcome == "skipped"
    assert feed_server.hits(FEED_PATH) == hits
    assert len(query(lambda s: s.scalars(sa.select(Feed.id)).all())) == 1


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (Response(status=401, body="no"), "http_client"),
        (Response(body="<html>sign in</html>"), "not_calendar"),
        (Response(reset=True), "network"),
        (Response(body="BEGIN:VCALENDAR\r\n" + "X" * 5000), "too_large"),
    ],
)
def test_each_failure_kind_is_recorded_and_data_kept(
    app: Any,
    feed_server: FeedServer,
    feed_url: str,
    make_user: Any,
    make_feed: Any,
    refresh: Any,
    query: Any,
    response: Response,
    kind: str,
) -> None:
    from tests.support.feed_server import local_policy

    feed_server.script(FEED_PATH, [Response(body=ics(*THREE)), response])
    feed_id = make_feed(make_user(), feed_url)
    refresh(feed_id)

    result = refresh(feed_id, policy=local_policy(max_bytes=4000))

    assert result.error_kind == kind
    assert runs(query, feed_id)[-1] == ("error", kind)
    assert query(lambda s: s.get(Feed, feed_id).event_count) == 3
    from app.models import Occurrence

    active = sa.select(sa.func.count(Occurrence.id)).where(Occurrence.removed_at.is_(None))
    assert query(lambda s: s.scalar(active)) == 3


def test_two_refreshes_at_once_one_works_the_other_skips(
    app: Any, feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, query: Any
) -> None:
    from app.extensions import db
    from app.refresh.refresh import refresh_feed

    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(make_user(), feed_url)
    inside, other_done = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def slow_fetch(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        other_done.wait(10)
        return fetch_feed(*args, **kwargs)

    def run(name: str, fetch: Any) -> None:
        with app.app_context():
            try:
                results[name] = refresh_feed(feed_id, worker_id=name, fetch=fetch)
            finally:
                db.session.remove()

    first = threading.Thread(target=run, args=("first", slow_fetch))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=run, args=("second", fetch_feed))
    second.start()
    second.join(10)
    other_done.set()
    first.join(10)

    assert results["second"].outcome == "skipped"
    assert results["first"].outcome == "ok"
    assert feed_server.hits(FEED_PATH) == 1
    assert len(runs(query, feed_id)) == 1
    assert feed_value(query, feed_id, "lease_owner") is None


def test_an_expired_lease_is_taken_over(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    now = utcnow()
    feed_id = make_feed(
        make_user(), feed_url, lease_owner="crashed", lease_expires_at=now + timedelta(minutes=5)
    )
    assert refresh(feed_id, now=now).outcome == "skipped"

    result = refresh(feed_id, now=now + timedelta(minutes=6))

    assert result.outcome == "ok"
    assert feed_value(query, feed_id, "lease_owner") is None


def test_refresh_window_uses_import_from_and_90_days(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    from tests.refresh.conftest import Event, today

    events = (
        Event("old@test", "Long ago", day=-100),
        Event("recent@test", "Last month", day=-30),
        Event("soon@test", "Next week", day=7),
        Event("far@test", "Far ahead", day=45),
    )
    feed_server.route(FEED_PATH, body=ics(*events))
    default = make_feed(make_user(), feed_url)
    late = make_feed(
        make_user("eve@example.com"), feed_url, import_from=today() - timedelta(days=10)
    )
    refresh(default)
    refresh(late)

    from app.models import Occurrence

    def uids(feed_id: int) -> list[str]:
        query_ = sa.select(Occurrence.uid).where(Occurrence.feed_id == feed_id)
        return sorted(query(lambda s: s.scalars(query_).all()))

    assert uids(default) == ["recent@test", "soon@test"]
    assert uids(late) == ["soon@test"]
