"""Real Celery workers against the local Redis and PostgreSQL, feeds over local HTTPS.

The worker runs in its own process group exactly as deployed
(``celery -A app.celery_app worker --pool=prefork -c 2``), with its settings
in the environment; the test process plays the web app (adds users and
feeds through the app's own functions) and the feed publisher.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask

from app.models import Feed, Occurrence, SyncRun
from tests.refresh.conftest import TOKEN, Event, ics
from tests.scale.conftest import Worker, needs_services, wait_for
from tests.support.feed_server import FeedCA, FeedServer, Response

pytestmark = [pytest.mark.services, needs_services]

FEED_KEY = Fernet.generate_key().decode()
FINGERPRINT_KEY = secrets.token_urlsafe(32)
EVENTS = tuple(Event(f"e{n}@test", f"Meeting {n}", day=n % 5, hour=8 + n % 8) for n in range(6))


@pytest.fixture
def scale_app(pg_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The web side: an app on the module's PostgreSQL database, emptied afterwards."""
    from app import create_app
    from app.extensions import db

    monkeypatch.setenv("TIMEPULSE_INSTANCE", str(tmp_path / "web-instance"))
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": pg_url,
            "TIMEPULSE_FEED_KEY": FEED_KEY,
            "TIMEPULSE_FINGERPRINT_KEY": FINGERPRINT_KEY,
            "TIMEPULSE_BROKER_URL": redis_url,
            "TIMEPULSE_SCHEDULER": False,
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def worker_env(pg_url: str, redis_url: str, feed_ca: FeedCA, tmp_path: Path) -> dict[str, str]:
    """What an operator sets for a worker (plus a test CA and loopback feeds)."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV")}
    return keep | {
        "TIMEPULSE_BROKER_URL": redis_url,
        "DATABASE_URL": pg_url,
        "TIMEPULSE_FEED_KEY": FEED_KEY,
        "TIMEPULSE_FINGERPRINT_KEY": FINGERPRINT_KEY,
        "TIMEPULSE_INSTANCE": str(tmp_path / "worker-instance"),
        "REQUESTS_CA_BUNDLE": str(feed_ca.bundle_path),
        "TIMEPULSE_ALLOW_PRIVATE_FEEDS": "1",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def add_feed(scale_app: Flask) -> Iterator[Callable[[str], int]]:
    """Subscribe one user to ``url`` through the app's own functions; returns the feed id."""
    from app.auth.accounts import create_user
    from app.extensions import db
    from app.feeds.links import normalize_feed_url
    from app.models import utcnow
    from app.refresh import feeds

    state: dict[str, int] = {}

    def add(url: str) -> int:
        with scale_app.app_context():
            if "user" not in state:
                user = create_user("scale@example.com", "a long and boring passphrase 42")
                db.session.flush()
                state["user"] = user.id
            feed = feeds.add_feed(
                db.session,
                scale_app,
                state["user"],
                normalize_feed_url(url),
                name=f"Feed {url[-12:]}",
                colour=None,
                import_from=None,
                now=utcnow(),
            )
            db.session.commit()
            return feed.id

    yield add


def _read(app: Flask, fn: Callable[[Any], Any]) -> Any:
    from app.extensions import db

    with app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()


def _occurrences(app: Flask, feed_id: int) -> int:
    query = sa.select(sa.func.count(Occurrence.id)).where(Occurrence.feed_id == feed_id)
    return int(_read(app, lambda s: s.scalar(query)))


def _runs(app: Flask, feed_id: int) -> list[str]:
    query = sa.select(SyncRun.outcome).where(SyncRun.feed_id == feed_id).order_by(SyncRun.id)
    return list(_read(app, lambda s: s.scalars(query).all()))


def _send(redis_url: str, task: Any, *args: Any) -> None:
    from app.celery_app import celery

    with celery.connection_for_write(redis_url) as conn:
        task.apply_async(args=list(args), connection=conn)


def _queue_settled(redis_url: str) -> bool:
    """Nothing waiting and nothing delivered-but-unacknowledged (acks come after the task)."""
    client = redis.Redis.from_url(redis_url)
    try:
        return client.llen("celery") == 0 and client.hlen("unacked") == 0
    finally:
        client.close()


# The deployment guide's two ways to run a worker: pool processes, or one
# process per core with threads that overlap the waiting on slow feeds.
POOLS = {"prefork": (), "thread": ("--pool=threads", "-c", "8")}


@pytest.mark.parametrize("pool", list(POOLS))
def test_worker_refreshes_feeds_and_tasks_carry_only_ids(
    pool: str,
    scale_app: Flask,
    add_feed: Callable[[str], int],
    feed_server: FeedServer,
    worker_env: dict[str, str],
    redis_url: str,
    start_worker: Callable[..., Worker],
) -> None:
    from app.celery_app import refresh_feed_task, refresh_feeds_task

    paths = [f"/owa/calendar/{n}/{TOKEN}/calendar.ics" for n in range(4)]
    for path in paths:
        feed_server.route(path, body=ics(*EVENTS), etag='"v1"')
    ids = [add_feed(feed_server.url(path)) for path in paths]

    for feed_id in ids:
        _send(redis_url, refresh_feed_task, feed_id)
    raw = redis.Redis.from_url(redis_url).lrange("celery", 0, -1)
    messages = [json.loads(m) for m in raw]
    bodies = [json.loads(base64.b64decode(m["body"])) for m in messages]
    assert sorted(body[0][0] for body in bodies) == ids
    assert all(body[0] == [body[0][0]] and body[1] == {} for body in bodies)
    assert not any(TOKEN.encode() in m or b"https://" in m for m in raw)

    worker = start_worker("a", worker_env, *POOLS[pool])
    wait_for(
        lambda: all(_runs(scale_app, i) == ["ok"] for i in ids), 60, "four refreshes", [worker]
    )
    assert f"concurrency: {2 if pool == 'prefork' else 8} ({pool})" in worker.log_tail(200)
    assert [_occurrences(scale_app, i) for i in ids] == [len(EVENTS)] * 4

    # The web's health check sees the worker's heartbeat.
    wait_for(
        lambda: (
            scale_app.test_client().get("/healthz").json.get("worker_heartbeat_age") is not None
        ),
        20,
        "a heartbeat",
        [worker],
    )
    health = scale_app.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.json["database"] == "ok"
    assert 0 <= health.json["worker_heartbeat_age"] < 30

    # The same task delivered twice, after the calendar changed: one new row, no duplicates.
    feed_server.route(paths[0], body=ics(*EVENTS, Event("new@test", "Added")), etag='"v2"')
    _send(redis_url, refresh_feed_task, ids[0])
    _send(redis_url, refresh_feed_task, ids[0])
    wait_for(lambda: _queue_settled(redis_url), 30, "both deliveries to finish", [worker])
    assert _occurrences(scale_app, ids[0]) == len(EVENTS) + 1
    runs = _runs(scale_app, ids[0])
    assert runs[:2] == ["ok", "ok"]
    assert set(runs[2:]) <= {"unchanged"}  # a second delivery finds nothing new (or is skipped)
    new_total = _read(
        scale_app,
        lambda s: s.scalar(sa.select(sa.func.sum(SyncRun.new)).where(SyncRun.feed_id == ids[0])),
    )
    assert new_total == len(EVENTS) + 1
    feed = _read(scale_app, lambda s: s.get(Feed, ids[0]))
    assert feed.lease_owner is None and feed.progress == "done"

    # Beat's kind of task: one batch of ids, each feed refreshed and recorded.
    before = {i: len(_runs(scale_app, i)) for i in ids}
    _send(redis_url, refresh_feeds_task, ids)
    wait_for(
        lambda: all(len(_runs(scale_app, i)) == before[i] + 1 for i in ids),
        30,
        "a batch of four",
        [worker],
    )
    assert [_runs(scale_app, i)[-1] for i in ids] == ["unchanged"] * 4
    assert all(_read(scale_app, lambda s, i=i: s.get(Feed, i)).lease_owner is None for i in ids)


def test_killed_worker_leaves_no_partial_state_and_another_takes_over(
    scale_app: Flask,
    add_feed: Callable[[str], int],
    feed_server: FeedServer,
    worker_env: dict[str, str],
    tmp_path: Path,
    start_worker: Callable[..., Worker],
) -> None:
    path = f"/owa/calendar/slow/{TOKEN}/calendar.ics"
    # The first answer hangs long enough to kill the worker mid-fetch; later ones are quick.
    feed_server.script(path, [Response(body=ics(*EVENTS), delay=30), Response(body=ics(*EVENTS))])
    feed_id = add_feed(feed_server.url(path))
    # Short lease and claim, and beat inside each worker ticking every 2 s.
    env = worker_env | {
        "TIMEPULSE_LEASE_SECONDS": "6",
        "TIMEPULSE_CLAIM_SECONDS": "6",
        "TIMEPULSE_BEAT_SECONDS": "2",
    }
    beat_a = ("-B", "-s", str(tmp_path / "beat-a"))
    worker_a = start_worker("a", env, *beat_a)

    def fetching() -> bool:
        # "fetching" is recorded just before the request goes out: wait until the
        # server has the request too, or a slow machine kills A before it asked and
        # B's first request would draw the 30 s answer meant for A.
        feed = _read(scale_app, lambda s: s.get(Feed, feed_id))
        asked = feed_server.hits(path) >= 1
        return asked and feed.progress == "fetching" and feed.lease_owner is not None

    wait_for(fetching, 40, "worker A to lease the feed and start fetching", [worker_a])
    worker_a.kill()

    feed = _read(scale_app, lambda s: s.get(Feed, feed_id))
    assert feed.lease_owner is not None  # left behind by the dead worker
    assert _occurrences(scale_app, feed_id) == 0
    assert _runs(scale_app, feed_id) == []

    worker_b = start_worker("b", env, "-B", "-s", str(tmp_path / "beat-b"))
    wait_for(
        lambda: _runs(scale_app, feed_id) == ["ok"],
        40,
        "worker B to take over once the lease expired",
        [worker_a, worker_b],
    )
    assert _occurrences(scale_app, feed_id) == len(EVENTS)
    feed = _read(scale_app, lambda s: s.get(Feed, feed_id))
    assert feed.lease_owner is None and feed.progress == "done"
    assert feed_server.hits(path) == 2
