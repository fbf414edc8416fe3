"""Text written by a user or by a calendar is shown, never run.

Event subjects and locations come from whoever sends the user an invitation;
project and feed names from the user. Every page of the app (from the URL
map) is rendered with markup in all of them: it must come out escaped.
"""

from __future__ import annotations

from typing import Any

from tests.security import tally
from tests.security.support import methods, populate, routes, url_for_rule
from tests.security.test_headers import inline_code

PAYLOADS = [
    '<script>alert("tp-xss")</script>',
    '"><img src=x onerror=alert("tp-xss")>',
    "'><svg onload=alert('tp-xss')>",
]
RAW = ["<script>alert", "<img src=x", "<svg onload"]


def _poison(app: Any, ids: dict[str, int]) -> None:
    from app.extensions import db
    from app.models import Feed, Occurrence, Project, Rule, TimeEntry

    payload = " ".join(PAYLOADS)
    with app.app_context():
        project = db.session.get(Project, ids["project"])
        project.name, project.client = payload[:120], payload[:120]
        db.session.get(Feed, ids["feed"]).name = payload[:120]
        occurrence = db.session.get(Occurrence, ids["occurrence"])
        occurrence.summary = occurrence.location = occurrence.organizer = payload
        occurrence.description = payload
        # Tracked, and changed since: the confirm and the change pages render too.
        occurrence.state = "tracked"
        entry = db.session.get(TimeEntry, ids["entry"])
        entry.description = payload
        entry.source_change = "renamed"
        entry.source_snapshot = {
            "summary": payload, "location": payload, "feed": payload, "all_day": False,
            "start": occurrence.start.isoformat(), "end": occurrence.end.isoformat(),
            "uid": occurrence.uid, "recurrence_id": "",
        }  # fmt: skip
        db.session.get(Rule, ids["rule"]).pattern = payload
        db.session.commit()


def test_markup_from_users_and_calendars_is_escaped_on_every_page(app, client, user_id):
    ids = populate(app, user_id)
    _poison(app, ids)
    unescaped, shown = [], set()
    for rule in routes(app):
        if "GET" not in methods(rule):
            continue
        url = url_for_rule(app, rule, ids)
        response = client.get(url)
        # A page may send elsewhere (log-in pages when logged in): shown nothing.
        tally.observe(response, f"GET {url} with markup in every text", expected=(200, 302))
        assert response.status_code < 500, url
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            unescaped += [f"{url}: {raw}" for raw in RAW if raw in html]
            if "&lt;script&gt;alert" in html:
                shown.add(rule.endpoint)
            unescaped += [f"{url}: {found}" for found in inline_code(html)]
        response.close()
    assert unescaped == []
    # Not vacuous: the markup did reach the pages that show these texts.
    assert {"projects.index", "entries.edit", "impulses.change"} <= shown
