"""Worker heartbeat: Celery workers stamp the time into Redis, /healthz reads its age.

Each worker's main process writes ``time.time()`` to one Redis key every
``INTERVAL`` seconds (``app.celery_app`` starts the thread when the worker
is ready). The web's health endpoint reports how old the newest stamp is,
so "no worker has been alive for a while" is visible without Celery's
remote-control machinery. Redis is ``TIMEPULSE_REDIS_URL``, else the broker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("timepulse.heartbeat")

KEY = "timepulse:worker:heartbeat"
INTERVAL = 10.0
# The key outlives a few missed beats, then vanishes: "no worker" reads as None.
TTL_SECONDS = 24 * 60 * 60


def redis_url(config: Mapping[str, Any]) -> str:
    """Where the heartbeat lives: TIMEPULSE_REDIS_URL, else a redis:// broker, else ""."""
    url = str(config.get("TIMEPULSE_REDIS_URL") or "")
    broker = str(config.get("TIMEPULSE_BROKER_URL") or "")
    if not url and broker.startswith(("redis://", "rediss://")):
        url = broker
    return url


def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def beat(url: str, now: float | None = None) -> None:
    """Record that a worker is alive now."""
    _client(url).set(KEY, repr(now if now is not None else time.time()), ex=TTL_SECONDS)


def age(url: str, now: float | None = None) -> float | None:
    """Seconds since the newest heartbeat; None when there is none.

    Raises ``redis.RedisError`` when Redis cannot be reached.
    """
    if not url:  # a non-Redis broker without TIMEPULSE_REDIS_URL: nowhere to look
        return None
    raw = _client(url).get(KEY)
    if raw is None:
        return None
    return max(0.0, (now if now is not None else time.time()) - float(raw))


def start_beating(url: str, interval: float = INTERVAL) -> threading.Event:
    """Beat from a daemon thread until the returned event is set."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                beat(url)
            except Exception:  # Redis away: the age grows, /healthz shows it; keep trying
                log.warning("worker heartbeat: could not reach Redis", exc_info=True)
            stop.wait(interval)

    threading.Thread(target=loop, name="timepulse-heartbeat", daemon=True).start()
    return stop
