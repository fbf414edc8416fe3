"""Login throttling per client address and per account.

In memory for the embedded default (one process); Redis when
``TIMEPULSE_REDIS_URL`` is set, so every web process shares the counts.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Protocol

from flask import current_app

from app.errors import TimepulseError


class Throttle(Protocol):
    def blocked(self, key: str) -> bool: ...
    def failure(self, key: str) -> None: ...
    def reset(self, key: str) -> None: ...


class MemoryThrottle:
    """Failures per key in a sliding window, in this process's memory.

    Memory stays bounded however many keys an attacker invents: looking a
    key up never stores it, and once more than ``sweep_at`` keys are held,
    those whose failures have all left the window are dropped.
    """

    def __init__(self, attempts: int, window: int, sweep_at: int = 10_000) -> None:
        self.attempts, self.window, self.sweep_at = attempts, window, sweep_at
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _count(self, key: str, now: float) -> int:
        entries = self._failures.get(key)
        if entries is None:
            return 0
        while entries and entries[0] < now - self.window:
            entries.popleft()
        if not entries:
            del self._failures[key]
        return len(entries)

    def _sweep(self, now: float) -> None:
        stale = [k for k, v in self._failures.items() if not v or v[-1] < now - self.window]
        for key in stale:
            del self._failures[key]

    def blocked(self, key: str) -> bool:
        with self._lock:
            return self._count(key, time.monotonic()) >= self.attempts

    def failure(self, key: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._count(key, now)
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > self.sweep_at:
                self._sweep(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def __len__(self) -> int:
        """How many keys are held (for tests of the memory bound)."""
        return len(self._failures)


class ThrottleUnavailable(TimepulseError):
    """The shared store of the counts (Redis) cannot be reached.

    Logins are refused (503) rather than let through uncounted: an outage
    must not switch the brute-force protection off.
    """

    def __init__(self) -> None:
        super().__init__("Logging in is unavailable for a moment. Please try again shortly.")


class RedisThrottle:
    """Counts in Redis, shared by every web process; the window is the key's lifetime."""

    def __init__(self, url: str, attempts: int, window: int) -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self.attempts, self.window = attempts, window
        self._errors = redis.RedisError

    def _run(self, command: Any) -> Any:
        try:
            return command()
        except self._errors as err:
            raise ThrottleUnavailable() from err

    def blocked(self, key: str) -> bool:
        count = self._run(lambda: self.client.get(f"timepulse:login:{key}"))
        return count is not None and int(count) >= self.attempts

    def failure(self, key: str) -> None:
        name = f"timepulse:login:{key}"
        pipe = self.client.pipeline()
        pipe.incr(name)
        pipe.expire(name, self.window, nx=True)
        self._run(pipe.execute)

    def reset(self, key: str) -> None:
        self._run(lambda: self.client.delete(f"timepulse:login:{key}"))


def make_throttle(redis_url: str, attempts: int, window: int) -> Throttle:
    if redis_url:
        return RedisThrottle(redis_url, attempts, window)
    return MemoryThrottle(attempts, window)


def app_throttle() -> Throttle:
    """The app's one throttle (made on first use from its config).

    Shared by the login form and every form that asks for the password
    again, so a stolen session cannot guess the password faster than
    a stranger at the login form.
    """
    ext = current_app.extensions
    if "timepulse_throttle" not in ext:
        cfg = current_app.config
        ext["timepulse_throttle"] = make_throttle(
            cfg["TIMEPULSE_REDIS_URL"],
            cfg["TIMEPULSE_LOGIN_ATTEMPTS"],
            cfg["TIMEPULSE_LOGIN_WINDOW"],
        )
    return ext["timepulse_throttle"]
