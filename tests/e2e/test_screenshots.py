"""Screenshots of the main pages: desktop and phone, light and dark.

Written to ``screenshots/`` (git-ignored) on every run, for a person to look
at; the test itself checks that every page renders without a browser
problem in each variant and has no horizontal scrolling on a phone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    SCREENSHOTS,
    LiveServer,
    Problems,
    calendar_text,
    new_context,
    sign_up,
    watch,
)

pytestmark = pytest.mark.browser

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"

VARIANTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
    },
}


def test_main_pages(
    browser: Any,
    live_server: LiveServer,
    page: Any,
    problems: Problems,
    connect_feed: Callable[..., int],
) -> None:
    email = sign_up(page)
    feed_id = connect_feed(email, calendar_text())
    page.goto("/")
    page.get_by_role("button", name="Track Standup", exact=True).click()
    expect(page.locator("[data-impulse-row]", has_text="Standup")).to_contain_text("tracked")
    state = page.context.storage_state()
    pages = {
        "dashboard": "/",
        "timesheet": "/entries/",
        "reports": "/reports/",
        "projects": "/projects/",
        "calendars": "/settings/time-tracking/impulses",
        "feed": f"/settings/time-tracking/impulses/{feed_id}",
        "upload": "/settings/time-tracking/impulses/upload",
        "troubleshooting": "/help/troubleshooting",
    }
    SCREENSHOTS.mkdir(exist_ok=True)
    for device, options in VARIANTS.items():
        for scheme in ("light", "dark"):
            ctx = new_context(
                browser, live_server, storage_state=state, color_scheme=scheme, **options
            )
            tab = watch(ctx.new_page(), problems)
            try:
                for name, path in pages.items():
                    tab.goto(path)
                    tab.screenshot(
                        path=SCREENSHOTS / f"{name}-{device}-{scheme}.png", full_page=True
                    )
                    overflow = tab.evaluate(SIDEWAYS)
                    assert overflow <= 1, f"{name} scrolls sideways by {overflow}px on {device}"
            finally:
                ctx.close()
