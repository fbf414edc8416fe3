"""Refresh policy: the fetch rules, the window, intervals and backoff.

Small pure functions (plus ``fetch_policy``, which reads ``app.config``
once) so the numbers that decide *when* and *what* a refresh fetches are in
one place and easy to test.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask

from app.feeds.fetch import FetchPolicy, warn_if_private_allowed

DAYS_BACK = 90
DAYS_AHEAD = 30
MIN_INTERVAL = 15 * 60
MAX_INTERVAL = 24 * 60 * 60
MAX_BACKOFF = 24 * 60 * 60

_POLICY_EXTENSION = "timepulse.fetch_policy"
_POLICY_SETTINGS = (
    "TIMEPULSE_ALLOW_PRIVATE_FEEDS",
    "TIMEPULSE_FEED_PORTS",
    "TIMEPULSE_FETCH_TIMEOUT",
    "TIMEPULSE_FEED_MAX_BYTES",
    "TIMEPULSE_FEED_ALLOWED_NETWORKS",
)


def fetch_policy(app: Flask) -> FetchPolicy:
    """The app's fetch rules, built once from ``app.config`` (``load_config`` read them).

    ``TIMEPULSE_FETCH_POLICY`` in the config may hold a ready ``FetchPolicy``
    (tests, embedding); otherwise the TIMEPULSE_* fetch settings are read.
    """
    given = app.config.get("TIMEPULSE_FETCH_POLICY")
    if isinstance(given, FetchPolicy):
        return given
    policy = app.extensions.get(_POLICY_EXTENSION)
    if policy is None:
        policy = FetchPolicy.from_env(_policy_settings(app))
        warn_if_private_allowed(policy)
        app.extensions[_POLICY_EXTENSION] = policy
    return policy


def _policy_settings(app: Flask) -> dict[str, str]:
    settings: dict[str, str] = {}
    for name in _POLICY_SETTINGS:
        value = app.config.get(name, "")
        if isinstance(value, bool):
            value = "1" if value else ""
        settings[name] = str(value if value is not None else "")
    return settings


def refresh_window(
    now: datetime, import_from: date | None, zone: ZoneInfo
) -> tuple[datetime, datetime]:
    """The period a refresh imports: the later of "import from" and 90 days back, to 30 ahead.

    Bounds are local midnights in the user's zone, as aware datetimes.
    """
    today = now.astimezone(zone).date()
    first = today - timedelta(days=DAYS_BACK)
    if import_from is not None and import_from > first:
        first = import_from
    last = max(today + timedelta(days=DAYS_AHEAD), first + timedelta(days=1))
    return _midnight(first, zone), _midnight(last, zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def clamp_interval(seconds: int | None, default: int) -> int:
    """The feed's own REFRESH-INTERVAL / X-PUBLISHED-TTL, kept within [15 min, 24 h]."""
    if seconds is None or seconds <= 0:
        return default
    return max(MIN_INTERVAL, min(MAX_INTERVAL, seconds))


def backoff_seconds(interval: int, failures: int, rng: random.Random | None = None) -> int:
    """Delay before retrying after ``failures`` failures in a row: exponential, with jitter.

    Jitter (±20 %) keeps feeds that failed together (one publisher's outage)
    from retrying in lock-step.
    """
    base = min(interval * 2 ** min(failures, 16), MAX_BACKOFF)
    return int(base * (rng or random).uniform(0.8, 1.2))
