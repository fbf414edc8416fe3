"""What each feed of a refresh batch costs inside a bench's Celery worker.

Loaded next to the app's tasks with ``celery -A app.celery_app worker
--include bench.celery_probe``: the worker runs exactly what a deployment
runs, and this module only listens. For every batch task (beat's
``refresh_feeds``) it measures, in the thread that ran it, the CPU time, the
SQL statements and how often the thread was switched out, splits them feed
by feed (``bench.attribution``: each feed's own stretch plus an even share
of the batch's lease and records) and pushes ``{"feed_id", "cpu_ms",
"statements", "switches"}`` per feed onto the Redis list ``KEY`` of the
broker, where ``bench.poll`` reads them after the cycle.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import redis
import sqlalchemy as sa
from celery.signals import task_postrun, task_prerun

from bench import attribution
from bench.attribution import Readings
from bench.services import thread_switches

KEY = "bench:probe"
TASK = "timepulse.refresh_feeds"

# Task signals are sent in the thread that runs the task (threads pool) or in
# the pool process (prefork), so per-thread counters belong to one task.
_local = threading.local()
_client: list[redis.Redis] = []


@sa.event.listens_for(sa.Engine, "before_cursor_execute")
def _count_statement(*_: Any) -> None:
    _local.statements = getattr(_local, "statements", 0) + 1


def _read() -> Readings:
    return {
        "cpu_ms": time.thread_time() * 1000,
        "statements": getattr(_local, "statements", 0),
        "switches": thread_switches(),
    }


@task_prerun.connect
def _start(task: Any = None, **_: Any) -> None:
    if task is not None and task.name == TASK:
        attribution.start(_read)


@task_postrun.connect
def _stop(task: Any = None, **_: Any) -> None:
    if task is None or task.name != TASK or (meter := attribution.stop()) is None:
        return
    samples = [
        json.dumps({"feed_id": result.feed_id, **{k: round(v, 4) for k, v in cost.items()}})
        for result, cost in meter.costs()
    ]
    if samples:
        _redis().rpush(KEY, *samples)


def _redis() -> redis.Redis:
    if not _client:  # a race here only builds a second client
        _client.append(redis.Redis.from_url(os.environ["TIMEPULSE_BROKER_URL"]))
    return _client[0]
