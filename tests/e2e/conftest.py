"""End-to-end fixtures: a live Timepulse on loopback, a real HTTPS feed server, Chromium.

The app runs in a background thread behind werkzeug's WSGI server on
127.0.0.1 against a fresh migrated SQLite database, with CSRF on, the
scheduler off (refreshes started from a page run in dispatch's background
thread) and private feed addresses allowed so it may fetch the local HTTPS
feed server, whose test CA is trusted through REQUESTS_CA_BUNDLE.

The browser is Debian's Chromium driven by Playwright (no Playwright browser
download). Without it the tests are skipped — unless TIMEPULSE_REQUIRE_BROWSER=1
(CI), where a missing browser fails the run.

Every page a test opens records console errors, page errors, failed requests
and answers >= 400; the ``page`` fixture fails the test when any appeared.
A strict-CSP violation is a console error, so this also proves the CSP holds.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from tests.conftest import PASSWORD, _migrate
from tests.support.feed_server import FeedCA, FeedServer

CHROMIUM = os.environ.get("TIMEPULSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ZONE = "Europe/Prague"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
TIMEOUT_MS = 10_000


# --- the browser -------------------------------------------------------------------


def _browser_missing(reason: str) -> None:
    if os.environ.get("TIMEPULSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"TIMEPULSE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_sync() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _browser_missing("the playwright package is not installed (pip install -e '.[test]')")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        _browser_missing(
            f"no Chromium at {CHROMIUM} (apt-get install chromium, or set TIMEPULSE_CHROMIUM)"
        )
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_sync: Any) -> Iterator[Any]:
    """One Chromium for the whole session; every test gets its own context."""
    chromium = playwright_sync.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


# --- the live app and the feed server --------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """The browser listeners report what matters; no access log in test output."""


@dataclass
class LiveServer:
    app: Flask
    url: str


@pytest.fixture(scope="session")
def feed_host(feed_ca: FeedCA) -> Iterator[FeedServer]:
    """The HTTPS calendar server the live app subscribes to (test CA trusted)."""
    with FeedServer(ca=feed_ca.ca) as server:
        yield server


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, feed_ca: FeedCA, playwright_sync: Any
) -> Iterator[LiveServer]:
    from app import create_app

    instance = tmp_path_factory.mktemp("e2e-instance")
    database = f"sqlite:///{tmp_path_factory.mktemp('e2e-db') / 'timepulse.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIMEPULSE_INSTANCE", str(instance))
        _migrate(database, instance)
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database,
                "WTF_CSRF_ENABLED": True,
                "TIMEPULSE_SCHEDULER": False,
                "TIMEPULSE_ALLOW_PRIVATE_FEEDS": True,
                "SESSION_COOKIE_SECURE": False,
                "REMEMBER_COOKIE_SECURE": False,
                "SERVER_NAME": None,
                # Every test signs up from 127.0.0.1; the throttle is tested elsewhere.
                "TIMEPULSE_LOGIN_ATTEMPTS": 10_000,
            }
        )
        server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
        )
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
            _dispose(app)


def _dispose(app: Flask) -> None:
    from app.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --- calendars relative to the real today ------------------------------------------------


@dataclass(frozen=True)
class Meeting:
    uid: str
    summary: str
    day: int  # days from today in ZONE
    start: str  # local HH:MM
    minutes: int
    location: str = ""
    busy: str = "BUSY"


TODAY_MEETINGS = (
    Meeting("standup@e2e", "Standup", 0, "09:00", 30, "Room 1"),
    Meeting("review@e2e", "Design review", 0, "10:00", 60, "Room 2"),
    Meeting("call@e2e", "Customer call", 0, "13:00", 45, "Teams"),
    Meeting("planning@e2e", "Sprint planning", 1, "09:30", 90, "Room 1"),
    Meeting("retro@e2e", "Retro", 3, "15:00", 60, "Room 3"),
)


def local_today() -> Any:
    return datetime.now(ZoneInfo(ZONE)).date()


def calendar_text(meetings: tuple[Meeting, ...] = TODAY_MEETINGS, *, subjects: bool = True) -> str:
    """An Exchange-like ICS whose meetings fall on today and this week in ZONE."""
    zone = ZoneInfo(ZONE)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:Microsoft Exchange Server 2010"]
    for m in meetings:
        hour, minute = map(int, m.start.split(":"))
        day = local_today() + timedelta(days=m.day)
        start = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)
        end = start + timedelta(minutes=m.minutes)
        summary = m.summary if subjects else m.busy.title()
        lines += [
            "BEGIN:VEVENT",
            f"UID:{m.uid}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{summary}",
            f"X-MICROSOFT-CDO-BUSYSTATUS:{m.busy}",
        ]
        if subjects and m.location:
            lines.append(f"LOCATION:{m.location}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


# --- pages with listeners ---------------------------------------------------------------


@dataclass
class Problems:
    """What went wrong in the browser while a test ran."""

    items: list[str] = field(default_factory=list)
    allowed: list[Callable[[str], bool]] = field(default_factory=list)

    def add(self, text: str) -> None:
        if not any(allow(text) for allow in self.allowed):
            self.items.append(text)


def watch(page: Any, problems: Problems) -> Any:
    """Record console errors, page errors, failed requests and answers >= 400."""
    page.on(
        "console",
        lambda m: m.type == "error" and problems.add(f"console error on {page.url}: {m.text}"),
    )
    page.on("pageerror", lambda exc: problems.add(f"page error on {page.url}: {exc}"))
    page.on(
        "requestfailed",
        lambda r: problems.add(f"request failed: {r.method} {r.url} ({r.failure})"),
    )
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.add(f"HTTP {r.status}: {r.request.method} {r.url}"),
    )
    page.set_default_timeout(TIMEOUT_MS)
    return page


def new_context(browser: Any, live_server: LiveServer, **options: Any) -> Any:
    settings: dict[str, Any] = {
        "base_url": live_server.url,
        "timezone_id": ZONE,
        "locale": "en-GB",
        "viewport": {"width": 1280, "height": 800},
        "accept_downloads": True,
    }
    return browser.new_context(**(settings | options))


def _favicon_cut_short(text: str) -> bool:
    # Leaving a page right after it loaded (a quick click) aborts the browser's
    # own favicon fetch; that is navigation, not a failed request.
    return text.startswith("request failed: GET ") and (
        "/static/favicon.svg (net::ERR_ABORTED)" in text
    )


@pytest.fixture
def problems() -> Problems:
    return Problems(allowed=[_favicon_cut_short])


@pytest.fixture
def context(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    ctx = new_context(browser, live_server)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, problems: Problems) -> Iterator[Any]:
    """A page in a fresh context; fails the test if the browser saw any problem."""
    tab = watch(context.new_page(), problems)
    yield tab
    tab.close()
    assert problems.items == [], "\n".join(problems.items)


# --- users and feeds ------------------------------------------------------------------------


def unique_email() -> str:
    return f"e2e-{secrets.token_hex(4)}@example.com"


def sign_up(page: Any, email: str | None = None) -> str:
    """Setup for journeys that start signed in (the sign-up journey does it by hand)."""
    email = email or unique_email()
    page.goto("/signup")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/settings/profile")
    return email


@pytest.fixture
def connect_feed(live_server: LiveServer, feed_host: FeedServer) -> Callable[..., int]:
    """Subscribe the user ``email`` to ``body`` served over HTTPS and refresh it once."""

    def connect(email: str, body: str, name: str = "Work") -> int:
        import sqlalchemy as sa

        from app.extensions import db
        from app.models import User, utcnow
        from app.refresh.feeds import add_feed
        from app.refresh.refresh import refresh_feed

        path = f"/owa/calendar/{secrets.token_hex(8)}/calendar.ics"
        feed_host.route(path, body=body)
        app = live_server.app
        with app.app_context():
            try:
                user = db.session.scalar(sa.select(User).where(User.email == email))
                assert user is not None
                feed = add_feed(
                    db.session,
                    app,
                    user.id,
                    feed_host.url(path),
                    name=name,
                    colour="#2f855a",
                    import_from=None,
                    now=utcnow(),
                )
                db.session.commit()
                result = refresh_feed(feed.id, worker_id="e2e")
                assert result.outcome == "ok", result.summary()
                return feed.id
            finally:
                db.session.remove()

    return connect


@pytest.fixture
def serve_feed(feed_host: FeedServer) -> Callable[[str], str]:
    """Serve ``body`` at a fresh secret-looking path; returns its https URL."""

    def serve(body: str) -> str:
        path = f"/owa/calendar/{secrets.token_hex(8)}/calendar.ics"
        feed_host.route(path, body=body)
        return feed_host.url(path)

    return serve
