"""Every user journey in a real Chromium against the live app, by mouse and by keyboard alone.

Each journey runs twice: ``mouse`` clicks and fills; ``keyboard`` reaches
every control with Tab / Shift+Tab and presses Enter / Space (see
``driver.py``), checking a visible focus ring on each. The ``page`` fixture
fails a journey on any console error (CSP violations included), failed
request or HTTP error answer.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import calendar_text, sign_up, unique_email
from tests.e2e.driver import Driver, driver_for

pytestmark = pytest.mark.browser

FEEDS = "/settings/time-tracking/impulses"


@pytest.fixture(params=["mouse", "keyboard"])
def ui(request: pytest.FixtureRequest, page: Any) -> Driver:
    return driver_for(request.param, page)


def row(page: Any, subject: str) -> Any:
    return page.locator("[data-impulse-row]", has_text=subject)


def signed_in_with_feed(page: Any, connect_feed: Callable[..., int], body: str = "") -> str:
    email = sign_up(page)
    connect_feed(email, body or calendar_text())
    page.goto("/")
    return email


def track(page: Any, *subjects: str) -> None:
    """Setup for journeys that need time entries: one-click track with the mouse."""
    for subject in subjects:
        page.get_by_role("button", name=f"Track {subject}", exact=True).click()
        expect(row(page, subject)).to_contain_text("tracked")


# --- the journeys ---------------------------------------------------------------------------


def test_sign_up(ui: Driver, page: Any) -> None:
    page.goto("/signup")
    ui.type_into(page.get_by_label("E-mail"), unique_email())
    ui.type_into(page.get_by_label("Password"), PASSWORD)
    ui.activate(page.get_by_role("button", name="Sign up"))

    expect(page).to_have_url(re.compile(r"/settings/profile$"))
    # The browser's zone (the context's Europe/Prague) was picked up at sign-up.
    expect(page.locator(".flash-ok")).to_contain_text("Times are shown in Europe/Prague")


def test_add_a_feed_and_see_the_check(
    ui: Driver, page: Any, serve_feed: Callable[[str], str]
) -> None:
    sign_up(page)
    url = serve_feed(calendar_text())
    page.goto(FEEDS)
    ui.type_into(page.get_by_label("Calendar link (ICS)"), url)
    ui.type_into(page.get_by_label("Name"), "Work")
    ui.activate(page.get_by_role("button", name="Check link", exact=True))

    found = page.get_by_role("status").filter(has_text="What Timepulse found")
    expect(found).to_contain_text("5 events in the calendar")
    expect(found).to_contain_text("No problems found.")
    ui.activate(page.get_by_role("button", name="Save feed"))

    expect(page).to_have_url(re.compile(r"/settings/time-tracking/impulses/\d+$"))
    expect(page.locator(".flash-ok")).to_contain_text("Saved “Work”")
    # The refresh runs in the background; feeds.js reloads the page when it ends.
    expect(page.get_by_role("cell", name="ok", exact=True)).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Limited details (subjects and locations)")).to_be_visible()


def test_impulses_show_on_the_dashboard(
    ui: Driver, page: Any, connect_feed: Callable[..., int]
) -> None:
    signed_in_with_feed(page, connect_feed)
    panel = page.locator("[data-impulse-panel]")
    for subject in ("Standup", "Design review", "Customer call"):
        expect(row(page, subject)).to_be_visible()
    expect(row(page, "Standup")).to_contain_text("09:00–09:30")
    expect(row(page, "Standup")).to_contain_text("Room 1")

    ui.activate(panel.locator("a[rel=next]"))
    expect(row(page, "Sprint planning")).to_contain_text("09:30–11:00")
    expect(row(page, "Standup")).to_have_count(0)


def test_track_one(ui: Driver, page: Any, connect_feed: Callable[..., int]) -> None:
    signed_in_with_feed(page, connect_feed)
    ui.activate(page.get_by_role("button", name="Track Standup", exact=True))

    expect(row(page, "Standup")).to_contain_text("tracked")
    expect(page.locator("[data-impulse-live]")).to_contain_text("Tracked “Standup” 09:00–09:30")
    page.reload()
    expect(page.locator("#today-h")).to_contain_text("0:30")


def test_edit_and_track_one(ui: Driver, page: Any, connect_feed: Callable[..., int]) -> None:
    signed_in_with_feed(page, connect_feed)
    ui.activate(page.get_by_role("link", name="Edit and track Design review"))

    expect(page.get_by_role("heading", name="Edit & track")).to_be_visible()
    ui.type_into(page.get_by_label("Description"), "Design review: checkout flow")
    ui.activate(page.get_by_role("button", name="Track", exact=True))

    expect(page).to_have_url(re.compile(r"/(\?day=[\d-]+)?$"))
    expect(page.locator(".flash-ok")).to_contain_text("Tracked “Design review: checkout flow”")
    expect(page.locator("#today-h")).to_contain_text("1:00")


def test_dismiss_and_undo(ui: Driver, page: Any, connect_feed: Callable[..., int]) -> None:
    signed_in_with_feed(page, connect_feed)
    ui.activate(page.get_by_role("button", name="Dismiss Customer call"))

    expect(row(page, "Customer call")).to_contain_text("dismissed")
    ui.activate(page.get_by_role("button", name="Undo dismissing Customer call"))

    expect(page.get_by_role("button", name="Track Customer call", exact=True)).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Track Customer call", exact=True)).to_be_visible()


def test_track_all(ui: Driver, page: Any, connect_feed: Callable[..., int]) -> None:
    signed_in_with_feed(page, connect_feed)
    ui.activate(page.get_by_role("button", name="Track all"))

    expect(page.locator("[data-impulse-live]")).to_contain_text("3")
    page.reload()
    expect(page.locator("#today-h")).to_contain_text("2:15")  # 30 + 60 + 45 minutes
    expect(page.get_by_role("button", name=re.compile(r"^Track (?!all)"))).to_have_count(0)


def test_availability_only_feed_banner_leads_to_the_fix(
    ui: Driver, page: Any, connect_feed: Callable[..., int]
) -> None:
    signed_in_with_feed(page, connect_feed, calendar_text(subjects=False))
    banner = page.get_by_role("note").filter(has_text="Your calendar only shares Busy/Free")
    expect(banner).to_be_visible()
    ui.activate(banner.get_by_role("link", name="Here is how to fix it"))

    expect(page).to_have_url(re.compile(r"/help/troubleshooting#availability-only$"))
    target = page.locator(":target")
    expect(target).to_have_attribute("id", "availability-only")
    expect(target).to_be_in_viewport()
    expect(target).to_contain_text("Limited details")


def test_the_timesheet_shows_the_entries(
    ui: Driver, page: Any, connect_feed: Callable[..., int]
) -> None:
    signed_in_with_feed(page, connect_feed)
    track(page, "Standup", "Design review")
    ui.activate(page.get_by_role("navigation", name="Main").get_by_role("link", name="Timesheet"))

    expect(page).to_have_url(re.compile(r"/entries/?"))
    today = page.locator("section.day.today")
    expect(today).to_contain_text("Standup")
    expect(today).to_contain_text("Design review")
    expect(page.locator(".total-line")).to_contain_text("1:30")


def test_the_report_shows_hours_and_the_csv_downloads(
    ui: Driver, page: Any, connect_feed: Callable[..., int]
) -> None:
    signed_in_with_feed(page, connect_feed)
    track(page, "Standup", "Design review")
    ui.activate(page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports"))

    expect(page.locator("#summary-h")).to_contain_text("1:30")
    download = ui.expect_download(page.get_by_role("link", name=re.compile("^Download CSV")))

    assert download.suggested_filename.endswith(".csv")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["description"] for r in rows) == ["Design review", "Standup"]
    assert sum(Decimal(r["duration_hours"]) for r in rows) == Decimal("1.5")
    assert {r["source_calendar"] for r in rows} == {"Work"}


def test_upload_a_calendar_file(ui: Driver, page: Any, tmp_path: Path) -> None:
    sign_up(page)
    exported = tmp_path / "Outlook export.ics"
    exported.write_text(calendar_text(), encoding="utf-8")
    page.goto("/")
    ui.activate(page.get_by_role("navigation", name="Main").get_by_role("link", name="Calendars"))
    ui.activate(page.get_by_role("link", name="Import a calendar file"))

    ui.choose_file(page.get_by_label("Calendar file (.ics)"), exported)
    ui.type_into(page.get_by_label("Name"), "Exported")
    ui.activate(page.get_by_role("button", name="Import file"))

    expect(page.locator(".flash-ok")).to_contain_text("Imported “Exported”: 5 events")
    page.goto("/")
    expect(row(page, "Standup")).to_contain_text("Exported")


def test_log_out(ui: Driver, page: Any) -> None:
    sign_up(page)
    page.goto("/")
    ui.activate(page.get_by_role("button", name="Log out"))

    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".flash-ok")).to_contain_text("You are logged out.")
    page.goto("/entries/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
