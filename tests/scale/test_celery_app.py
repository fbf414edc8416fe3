"""The Celery wiring without a broker: settings, messages, web processes, health."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from app.celery_app import celery, enqueue_due_feeds, refresh_feed_task, refresh_feeds_task
from app.refresh.scheduler import batches, deal
from tests.conftest import ROOT
from tests.scale.conftest import needs_services


def test_delivery_settings_make_a_lost_worker_harmless() -> None:
    conf = celery.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    tick = conf.beat_schedule["enqueue-due-feeds"]
    assert tick["task"] == enqueue_due_feeds.name
    assert tick["schedule"] == 60.0
    assert conf.task_time_limit < 600  # stops before the default lease would expire


def test_importing_the_module_builds_no_flask_app() -> None:
    code = (
        "import sys, app.celery_app as c; "
        "assert not c._app; "
        "assert 'app.models' not in sys.modules, 'models imported at import time'; "
        "print(c.celery.conf.broker_url)"
    )
    env = {"TIMEPULSE_BROKER_URL": "redis://127.0.0.1:6379/5", "PATH": ""}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "redis://127.0.0.1:6379/5"


@pytest.fixture
def published() -> Iterator[list[dict[str, Any]]]:
    """Every task message sent while the test runs (to an in-memory broker)."""
    from celery.signals import before_task_publish

    sent: list[dict[str, Any]] = []

    def record(sender: str, body: Any, headers: dict[str, Any], **_: Any) -> None:
        sent.append({"task": sender, "body": body, "headers": headers})

    before_task_publish.connect(record, weak=False)
    previous = celery.conf.broker_url
    _use_broker("memory://")
    try:
        yield sent
    finally:
        before_task_publish.disconnect(record)
        _use_broker(previous)


def _use_broker(url: str | None) -> None:
    """Point the app at ``url``, dropping pooled connections to the old broker."""
    celery.conf.broker_url = url
    celery._pool = None
    celery.amqp._producer_pool = None


def test_refresh_task_message_holds_the_feed_id_only(published: list[dict[str, Any]]) -> None:
    from app.celery_app import enqueue_refresh

    enqueue_refresh(42)

    (message,) = published
    assert message["task"] == refresh_feed_task.name
    args, kwargs, _embed = message["body"]
    assert list(args) == [42] and kwargs == {}


def test_batches_are_dealt_so_slow_feeds_spread_out() -> None:
    slowest_first = list(range(1, 24))

    batches = deal(slowest_first, 10)

    assert batches == [
        [1, 4, 7, 10, 13, 16, 19, 22],
        [2, 5, 8, 11, 14, 17, 20, 23],
        [3, 6, 9, 12, 15, 18, 21],
    ]
    assert deal([], 10) == [] and deal([7], 10) == [[7]]


def test_a_feed_known_to_be_slow_gets_a_task_of_its_own() -> None:
    # (id, last refresh in ms), slowest first, as the claim returns them.
    claimed = [(1, 60_000), (2, 3_000), (3, 900), (4, 40), (5, None), (6, 30), (7, 20)]

    assert batches(claimed, 2) == [[1], [2], [3, 6], [4, 7], [5]]


def test_beat_sends_the_due_feeds_in_batches_of_ids(
    monkeypatch: pytest.MonkeyPatch, app: Flask, make_user: Any, published: list[dict[str, Any]]
) -> None:
    from datetime import timedelta

    import app.celery_app as celery_app
    from app.extensions import db
    from app.models import Feed, utcnow

    user = make_user()
    with app.app_context():
        feeds = [
            Feed(user_id=user, name=f"f{n}", url_fingerprint=f"fp{n}", url_encrypted=b"x",
                 next_refresh_at=utcnow() - timedelta(minutes=1))
            for n in range(23)
        ]  # fmt: skip
        db.session.add_all(feeds)
        db.session.commit()
        ids = sorted(f.id for f in feeds)
        db.session.remove()
    monkeypatch.setattr(celery_app, "_app", [app])

    assert enqueue_due_feeds() == 23

    assert {m["task"] for m in published} == {refresh_feeds_task.name}
    batches = [m["body"][0][0] for m in published]
    assert [len(b) for b in batches] == [8, 8, 7]
    assert sorted(i for b in batches for i in b) == ids
    assert all(m["body"][0] == [m["body"][0][0]] and m["body"][1] == {} for m in published)
    # Claimed: the next tick finds nothing due.
    assert enqueue_due_feeds() == 0 and len(published) == 3


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"TIMEPULSE_BROKER_URL": "redis://127.0.0.1:1/0", "TIMEPULSE_SCHEDULER": True}


def test_web_process_runs_no_scheduler_when_a_broker_is_configured(app: Flask) -> None:
    from app.refresh.scheduler import start_embedded_scheduler, wake_scheduler

    assert start_embedded_scheduler(app) is None
    assert wake_scheduler(app) is False


def test_embedded_default_still_starts_its_thread(app: Flask) -> None:
    from app.refresh.scheduler import start_embedded_scheduler, stop_embedded_scheduler

    app.config["TIMEPULSE_BROKER_URL"] = ""
    try:
        scheduler = start_embedded_scheduler(app)
        assert scheduler is not None and scheduler.thread.is_alive()
    finally:
        stop_embedded_scheduler(app)


def test_refresh_now_goes_to_celery_when_a_broker_is_configured(
    app: Flask, published: list[dict[str, Any]]
) -> None:
    from app.refresh.dispatch import dispatch_refresh

    assert dispatch_refresh(app, 7).how == "celery"
    assert [m["body"][0] for m in published] == [[7]]


def test_healthz_reports_an_unreachable_broker_without_failing(app: Flask) -> None:
    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.json == {
        "database": "ok",
        "broker": "unreachable",
        "worker_heartbeat_age": None,
    }


def test_healthz_without_a_broker_says_nothing_of_workers(app: Flask) -> None:
    app.config["TIMEPULSE_BROKER_URL"] = ""
    assert app.test_client().get("/healthz").json == {"database": "ok"}


@pytest.mark.services
@needs_services
def test_healthz_reports_the_heartbeat_age(app: Flask, redis_url: str) -> None:
    from app import heartbeat

    app.config["TIMEPULSE_BROKER_URL"] = redis_url
    client = app.test_client()
    assert client.get("/healthz").json["worker_heartbeat_age"] is None  # no worker yet

    import time

    heartbeat.beat(redis_url, now=time.time() - 42)
    age = client.get("/healthz").json["worker_heartbeat_age"]
    assert 41 <= age < 60


@pytest.mark.parametrize(("concurrency", "pool_size"), [(None, 5), (2, 5), (12, 12)])
def test_a_worker_keeps_a_database_connection_for_each_of_its_threads(
    tmp_path: Any, concurrency: int | None, pool_size: int
) -> None:
    # What the worker tells its worker_init receivers; SQLAlchemy's default pool keeps 5.
    started = (
        f"worker_init.send(sender=type('Worker', (), {{'concurrency': {concurrency}}})()); "
        if concurrency
        else ""
    )
    code = (
        "from celery.signals import worker_init; import app.celery_app as c; "
        + started
        + "from app.extensions import db; application = c._flask_app(); "
        "application.app_context().push(); print(db.engine.pool.size())"
    )
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'timepulse.db'}",
        "TIMEPULSE_INSTANCE": str(tmp_path),
        "PATH": "",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == str(pool_size)
