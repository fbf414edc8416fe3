"""What one refresh task costs inside a bench's Celery worker.

Loaded next to the app's tasks with ``celery -A app.celery_app worker
--include bench.celery_probe``: the worker runs exactly what a deployment
runs, and this module only listens. For every refresh task it measures the
CPU time of the thread that ran it, the SQL statements that thread sent and
how often it was switched out, and pushes ``{"feed_id", "cpu_ms",
"statements", "switches"}`` onto the Redis list ``KEY`` of the broker,
where ``bench.poll`` reads them after the cycle.
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

from bench.services import thread_switches

KEY = "bench:probe"
TASK = "timepulse.refresh_feed"

# Task signals are sent in the thread that runs the task (threads pool) or in
# the pool process (prefork), so per-thread counters belong to one task.
_local = threading.local()
_client: list[redis.Redis] = []


@sa.event.listens_for(sa.Engine, "before_cursor_execute")
def _count_statement(*_: Any) -> None:
    _local.statements = getattr(_local, "statements", 0) + 1


@task_prerun.connect
def _start(task: Any = None, **_: Any) -> None:
    if task is not None and task.name == TASK:
        _local.statements = 0
        _local.switches = thread_switches()
        _local.cpu = time.thread_time()


@task_postrun.connect
def _stop(task: Any = None, args: Any = None, **_: Any) -> None:
    if task is None or task.name != TASK or not hasattr(_local, "cpu"):
        return
    sample = {
        "feed_id": int(args[0]),
        "cpu_ms": (time.thread_time() - _local.cpu) * 1000,
        "statements": _local.statements,
        "switches": thread_switches() - _local.switches,
    }
    del _local.cpu
    _redis().rpush(KEY, json.dumps(sample))


def _redis() -> redis.Redis:
    if not _client:  # a race here only builds a second client
        _client.append(redis.Redis.from_url(os.environ["TIMEPULSE_BROKER_URL"]))
    return _client[0]
