"""A feed's life through real HTTPS refreshes: add, edit, delete, fail, hold, skip."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.models import Feed, Occurrence, SyncRun, TimeEntry
from tests.refresh.conftest import FEED_PATH, THREE, Event, ics
from tests.support.feed_server import FeedServer, Response


def occurrences(query: Any, feed_id: int) -> dict[str, Occurrence]:
    def load(session: Any) -> dict[str, Occurrence]:
        rows = session.scalars(sa.select(Occurrence).where(Occurrence.feed_id == feed_id)).all()
        for row in rows:
            session.expunge(row)
        return {row.uid: row for row in rows}

    return query(load)


def feed_row(query: Any, feed_id: int) -> Feed:
    def load(session: Any) -> Feed:
        feed = session.get(Feed, feed_id)
        session.expunge(feed)
        return feed

    return query(load)


def test_add_then_refresh_stores_occurrences(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(make_user(), feed_url)

    result = refresh(feed_id)

    assert result.outcome == "ok"
    assert (result.counts.new, result.counts.changed, result.counts.removed) == (3, 0, 0)
    stored = occurrences(query, feed_id)
    assert sorted(stored) == ["a@test", "b@test", "c@test"]
    assert stored["b@test"].summary == "Planning"
    feed = feed_row(query, feed_id)
    assert feed.progress == "done" and feed.state == "active"
    assert feed.last_success_at is not None and feed.event_count == 3


def test_edited_event_updates_the_same_row(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(make_user(), feed_url)
    refresh(feed_id)
    before = occurrences(query, feed_id)

    edited = (THREE[0], Event("b@test", "Planning (moved)", day=2, hour=14), THREE[2])
    feed_server.route(FEED_PATH, body=ics(*edited))
    result = refresh(feed_id)

    after = occurrences(query, feed_id)
    assert (result.counts.new, result.counts.changed, result.counts.unchanged) == (0, 1, 2)
    assert after["b@test"].id == before["b@test"].id
    assert after["b@test"].summary == "Planning (moved)"
    assert after["b@test"].start.hour == 14
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Occurrence.id)))) == 3


def test_deleted_event_is_soft_removed(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(make_user(), feed_url)
    refresh(feed_id)

    feed_server.route(FEED_PATH, body=ics(THREE[0], THREE[2]))
    result = refresh(feed_id)

    stored = occurrences(query, feed_id)
    assert result.counts.removed == 1
    assert stored["b@test"].removed_at is not None
    assert stored["a@test"].removed_at is None

    feed_server.route(FEED_PATH, body=ics(*THREE))  # it comes back
    refresh(feed_id)
    assert occurrences(query, feed_id)["b@test"].removed_at is None


def test_tracked_event_changes_flag_the_entry_and_leave_it_untouched(
    feed_server: FeedServer,
    feed_url: str,
    make_user: Any,
    make_feed: Any,
    make_entry: Any,
    refresh: Any,
    query: Any,
) -> None:
    user = make_user()
    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(user, feed_url)
    refresh(feed_id)
    stored = occurrences(query, feed_id)
    entries = {}
    for uid in ("a@test", "b@test", "c@test"):
        occ = stored[uid]
        entries[uid] = make_entry(
            user,
            occ.start,
            occ.end,
            description=f"tracked {uid}",
            occurrence_id=occ.id,
            source_snapshot={"summary": occ.summary},
        )
    snapshot_before = query(
        lambda s: {e.id: _entry_values(e) for e in s.scalars(sa.select(TimeEntry))}
    )

    changed = (
        Event("a@test", "Standup", day=1, hour=11),  # moved
        Event("b@test", "Planning renamed", day=2),  # renamed
        Event("c@test", "Review", day=3, status="CANCELLED"),  # cancelled
    )
    feed_server.route(FEED_PATH, body=ics(*changed))
    refresh(feed_id)
    flags = query(lambda s: {e.id: e.source_change for e in s.scalars(sa.select(TimeEntry))})
    assert flags == {
        entries["a@test"]: "moved",
        entries["b@test"]: "renamed",
        entries["c@test"]: "cancelled",
    }

    feed_server.route(FEED_PATH, body=ics(changed[1], changed[2]))  # a@test vanishes
    refresh(feed_id)
    after = query(lambda s: {e.id: _entry_values(e) for e in s.scalars(sa.select(TimeEntry))})
    assert query(lambda s: s.get(TimeEntry, entries["a@test"]).source_change) == "removed"
    assert after == snapshot_before  # every other column untouched


def _entry_values(entry: TimeEntry) -> tuple[Any, ...]:
    return (
        entry.start,
        entry.end,
        entry.description,
        entry.project_id,
        entry.billable,
        entry.occurrence_id,
        entry.source_snapshot,
        entry.updated_at,
    )


def test_every_refresh_records_how_long_it_took(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    # A slow server, then the same answer (304), then a failure: each path
    # records its length on the feed, for claims to hand out slow feeds first.
    slow = 0.3
    feed_server.script(
        FEED_PATH,
        [
            Response(body=ics(*THREE), etag='"v1"', delay=slow),
            Response(body=ics(*THREE), etag='"v1"', delay=slow),  # answered 304
            Response(status=500, body="boom", delay=slow),
        ],
    )
    feed_id = make_feed(make_user(), feed_url)
    assert feed_row(query, feed_id).last_duration_ms is None

    lengths = []
    for outcome in ("ok", "unchanged", "error"):
        result = refresh(feed_id)
        assert result.outcome == outcome
        recorded = feed_row(query, feed_id).last_duration_ms
        assert recorded == result.duration_ms
        lengths.append(recorded)

    assert all(ms >= slow * 1000 for ms in lengths), lengths


def test_server_error_keeps_data_records_error_and_backs_off(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.script(
        FEED_PATH,
        [Response(body=ics(*THREE)), Response(status=500, body="boom", headers={})],
    )
    feed_id = make_feed(make_user(), feed_url)
    refresh(feed_id)

    result = refresh(feed_id)

    assert result.outcome == "error" and result.error_kind == "http_server"
    assert len(occurrences(query, feed_id)) == 3
    assert all(o.removed_at is None for o in occurrences(query, feed_id).values())
    feed = feed_row(query, feed_id)
    assert feed.state == "failing" and feed.failure_count == 1
    assert feed.last_error_kind == "http_server" and "HTTP 500" in feed.last_error_message
    run = query(lambda s: s.scalars(sa.select(SyncRun).order_by(SyncRun.id.desc())).first())
    assert run.outcome == "error" and run.http_status == 500 and "500" in run.error_message
    assert feed.next_refresh_at > feed.last_attempt_at


def test_empty_feed_is_held_then_applied_when_confirmed(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(make_user(), feed_url)
    refresh(feed_id)

    feed_server.route(FEED_PATH, body=ics())
    held = refresh(feed_id)

    assert held.outcome == "held"
    assert all(o.removed_at is None for o in occurrences(query, feed_id).values())
    feed = feed_row(query, feed_id)
    assert feed.state == "held" and feed.held["previous"] == 3 and feed.held["now"] == 0
    assert "feed_held" in [d["code"] for d in feed.diagnostics]

    confirmed = refresh(feed_id)

    assert confirmed.outcome == "ok" and confirmed.counts.removed == 3
    assert all(o.removed_at is not None for o in occurrences(query, feed_id).values())
    assert feed_row(query, feed_id).held is None


def test_hold_is_released_when_the_feed_recovers(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    many = [Event(f"e{i}@test", f"Meeting {i}", day=1 + i % 5, hour=8 + i) for i in range(8)]
    feed_server.route(FEED_PATH, body=ics(*many))
    feed_id = make_feed(make_user(), feed_url)
    refresh(feed_id)

    feed_server.route(FEED_PATH, body=ics(*many[:3]))  # lost more than half
    assert refresh(feed_id).outcome == "held"
    feed_server.route(FEED_PATH, body=ics(*many))
    result = refresh(feed_id)

    assert result.outcome in ("ok", "unchanged")
    assert feed_row(query, feed_id).held is None
    assert all(o.removed_at is None for o in occurrences(query, feed_id).values())
