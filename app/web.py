"""Cross-cutting web wiring: login loading, security headers, template helpers."""

from __future__ import annotations

import functools
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, request, session, url_for
from flask_login import current_user

from app import timeutil
from app.auth.sessions import SID, hash_token, oldest_live_start
from app.extensions import db, login_manager
from app.models import LoginSession, User

# No inline script or style anywhere (templates are checked by
# tests/security/test_headers.py), so the policy needs no 'unsafe-inline'.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # Only together with a live login session of this browser: logging out
    # deletes it, so a copy of the cookie made before no longer loads anyone.
    token = session.get(SID)
    if not user_id.isdigit() or not isinstance(token, str):
        return None
    params = {"id": int(user_id), "token_hash": hash_token(token), "since": oldest_live_start()}
    return db.session.scalars(_user_select(), params).first()


@functools.cache
def _user_select() -> sa.Select[tuple[User]]:
    # One statement per request, built once per process (every request runs it).
    return (
        sa.select(User)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == sa.bindparam("id"),
            LoginSession.token_hash == sa.bindparam("token_hash"),
            LoginSession.created_at >= sa.bindparam("since"),
        )
    )


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for old browsers
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    # A logged-in page shows someone's time entries and calendar: keep it
    # out of shared caches and off the back button after logout.
    if response.mimetype == "text/html" and current_user.is_authenticated:
        headers.setdefault("Cache-Control", "no-store")
    return response


def user_zone() -> Any:
    tz = current_user.timezone if current_user.is_authenticated else None
    return timeutil.zone(tz)


def _localtime(value: datetime | None, fmt: str = "%H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(user_zone()).strftime(fmt)


def _localdate(value: date | datetime | None, fmt: str = "%a %-d %b %Y") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(user_zone())
    return value.strftime(fmt)


# Pages beyond the core ones, shown in the menu once their blueprint exists.
NAV: list[tuple[str, str, tuple[str, ...]]] = [
    # (link target, label, endpoints that belong to the section)
    ("dashboard.index", "Dashboard", ("dashboard.", "impulses.")),
    ("entries.week", "Timesheet", ("entries.",)),
    ("projects.index", "Projects", ("projects.",)),
    ("reports.index", "Reports", ("reports.",)),
    (
        "settings.impulses",
        "Calendars",
        ("settings.impulses", "settings.feed", "settings.upload", "settings.reupload", "rules."),
    ),
    ("settings.profile", "Settings", ("settings.profile",)),
    ("account.index", "Account", ("account.",)),
]


def _nav_links(app: Flask) -> list[tuple[str, str, bool]]:
    """Menu links (URL, label, current) whose blueprint exists, the current section marked.

    The URLs only depend on where the app is mounted, so they are built once
    per script root, not on every page.
    """
    here = request.endpoint or ""
    cache = app.extensions.setdefault("timepulse_nav", {})
    links = cache.get(request.script_root)
    if links is None:
        links = cache[request.script_root] = [
            (url_for(endpoint), label, owned)
            for endpoint, label, owned in NAV
            if endpoint in app.view_functions
        ]
    return [(url, label, any(here.startswith(p) for p in owned)) for url, label, owned in links]


# An id no row has, so it can be found and replaced in a URL built once.
_ID = 987654321


def id_url(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` for a page that links many rows.

    ``url_for`` costs more than the rest of a row; the URLs differ only in
    the one ``*_id`` value, so each (endpoint, other values) URL is built once
    per request with a placeholder id and the row's id is put in with
    ``str.replace``.
    """
    (name,) = [key for key in values if key.endswith("_id")]
    rest = tuple(sorted((key, value) for key, value in values.items() if key != name))
    made = g.setdefault("timepulse_id_urls", {})
    base = made.get((endpoint, name, rest))
    if base is None:
        base = made[(endpoint, name, rest)] = url_for(endpoint, **dict(rest), **{name: _ID})
    return base.replace(str(_ID), str(int(values[name])), 1)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.after_request(_security_headers)
    app.add_template_filter(_localtime, "localtime")
    app.add_template_filter(_localdate, "localdate")
    app.add_template_filter(timeutil.format_duration, "duration")
    app.add_template_global(user_zone, "user_zone")
    app.add_template_global(timeutil.now, "now")
    app.add_template_global(lambda: _nav_links(app), "nav_links")
    app.add_template_global(id_url, "id_url")

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, Any], int]:
        """Database reachable (else 503); with Celery, the age of the newest worker heartbeat.

        A stale or missing heartbeat is reported, not failed on: web
        processes still serve pages (and refresh "now" in-process) without workers.
        """
        try:
            db.session.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return {"database": "unreachable"}, 503
        body: dict[str, Any] = {"database": "ok"}
        if app.config.get("TIMEPULSE_BROKER_URL"):
            import redis

            from app import heartbeat

            try:
                seconds = heartbeat.age(heartbeat.redis_url(app.config))
            except redis.RedisError:
                body["broker"] = "unreachable"
                seconds = None
            body["worker_heartbeat_age"] = None if seconds is None else round(seconds, 1)
        return body, 200

    csrf_exempt = app.extensions["csrf"].exempt
    csrf_exempt(healthz)
