"""Configuration from the environment, with safe defaults.

Everything is read once, in ``load_config``, so the rest of the app reads
``app.config`` only. Secrets that are not given are generated once into the
instance folder (never a constant in the code), so a fresh ``make run`` is
both zero-setup and safe.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_secret(instance_path: str, filename: str, make: Any = None) -> str:
    """Read a secret kept in the instance folder, creating it on first use.

    The file is created with mode 0600 so only the service account reads it.
    It is written under a temporary name and linked into place, so two
    processes starting at once agree on one value and never read half a file.
    """
    path = Path(instance_path) / filename
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make() if make else secrets.token_urlsafe(48)
    tmp = path.with_name(f".{filename}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
            fh.flush()
            os.fsync(fh.fileno())
        os.link(tmp, path)
    except FileExistsError:
        pass  # another process won the race: use its value
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def load_config(instance_path: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from ``env`` (default: ``os.environ``)."""
    env = os.environ if env is None else env
    db_url = env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'timepulse.db'}"
    if db_url.startswith("postgres://"):  # Heroku-style URLs
        db_url = "postgresql://" + db_url.removeprefix("postgres://")
    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url.removeprefix("postgresql://")
    dev = _flag(env.get("TIMEPULSE_DEV"))
    lease = int(env.get("TIMEPULSE_LEASE_SECONDS", "").strip() or 10 * 60)
    return {
        "SECRET_KEY": env.get("SECRET_KEY") or instance_secret(instance_path, "secret_key"),
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies everywhere but local development (TIMEPULSE_DEV=1):
        # no switch turns them off in production by accident.
        "SESSION_COOKIE_SECURE": not dev,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": not dev,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": int(env.get("TIMEPULSE_MAX_UPLOAD_BYTES", 25 * 1024 * 1024)),
        "TIMEPULSE_DEV": dev,
        "TIMEPULSE_FEED_KEY": env.get("TIMEPULSE_FEED_KEY", ""),
        "TIMEPULSE_FINGERPRINT_KEY": env.get("TIMEPULSE_FINGERPRINT_KEY", ""),
        "TIMEPULSE_MAX_FEEDS": int(env.get("TIMEPULSE_MAX_FEEDS", 20)),
        "TIMEPULSE_REFRESH_INTERVAL": int(env.get("TIMEPULSE_REFRESH_INTERVAL", 15 * 60)),
        "TIMEPULSE_SCHEDULER": _flag(env.get("TIMEPULSE_SCHEDULER"), default=True),
        "TIMEPULSE_BROKER_URL": env.get("TIMEPULSE_BROKER_URL", ""),
        "TIMEPULSE_REDIS_URL": env.get("TIMEPULSE_REDIS_URL", ""),
        "TIMEPULSE_LOGIN_ATTEMPTS": int(env.get("TIMEPULSE_LOGIN_ATTEMPTS", 5)),
        "TIMEPULSE_LOGIN_WINDOW": int(env.get("TIMEPULSE_LOGIN_WINDOW", 15 * 60)),
        "TIMEPULSE_ALLOW_PRIVATE_FEEDS": _flag(env.get("TIMEPULSE_ALLOW_PRIVATE_FEEDS")),
        # The other fetch rules stay text here: FetchPolicy.from_env parses
        # and checks them where the policy is built (app.refresh.policy).
        "TIMEPULSE_FEED_PORTS": env.get("TIMEPULSE_FEED_PORTS", ""),
        "TIMEPULSE_FETCH_TIMEOUT": env.get("TIMEPULSE_FETCH_TIMEOUT", ""),
        "TIMEPULSE_FEED_MAX_BYTES": env.get("TIMEPULSE_FEED_MAX_BYTES", ""),
        "TIMEPULSE_FEED_ALLOWED_NETWORKS": env.get("TIMEPULSE_FEED_ALLOWED_NETWORKS", ""),
        # How long a refresh holds its feed, and how far a claim pushes a feed
        # ahead (beat's tick; defaults to the lease). Celery reads the lease
        # from the environment too, at import, for its time limits.
        "TIMEPULSE_LEASE_SECONDS": lease,
        "TIMEPULSE_CLAIM_SECONDS": int(env.get("TIMEPULSE_CLAIM_SECONDS", "").strip() or lease),
        # Reverse proxies in front of the app that may be trusted for
        # X-Forwarded-For/-Proto/-Host (0: none). Without it, behind a proxy
        # every client looks alike to the login throttle and HSTS never shows.
        "TIMEPULSE_PROXY_HOPS": int(env.get("TIMEPULSE_PROXY_HOPS", 0)),
    }
