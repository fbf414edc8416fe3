"""Importing a calendar file: through the real upload pages, as a user without publishing."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from app.models import Feed, Occurrence, SyncRun
from tests.refresh.conftest import THREE, Event, ics, today

PAGE = "/settings/time-tracking/impulses/upload"


def upload(
    client: FlaskClient, body: bytes | None, filename: str = "work.ics", **fields: str
) -> Any:
    data: dict[str, Any] = {"name": "", "colour": "#6b46c1", **fields}
    if body is not None:
        data["file"] = (io.BytesIO(body), filename)
    return client.post(PAGE, data=data, content_type="multipart/form-data")


def reupload(client: FlaskClient, feed_id: int, body: bytes, filename: str = "work.ics") -> Any:
    return client.post(
        f"/settings/time-tracking/impulses/{feed_id}/upload",
        data={"file": (io.BytesIO(body), filename)},
        content_type="multipart/form-data",
    )


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def only_feed(query: Any) -> Feed:
    feeds = query(lambda s: s.scalars(sa.select(Feed)).all())
    assert len(feeds) == 1
    return feeds[0]


def availability_only(days: int = 3) -> bytes:
    """An Exchange "Can view when I'm busy" export: subjects are busy words, no locations."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:Microsoft Exchange Server 2010"]
    for n in range(days):
        start = datetime.combine(today() + timedelta(days=n), time(9), tzinfo=UTC)
        for hour, word, state in ((0, "Busy", "BUSY"), (2, "Tentative", "TENTATIVE")):
            at = start + timedelta(hours=hour)
            lines += [
                "BEGIN:VEVENT",
                f"UID:avail-{n}-{hour}@test",
                "DTSTAMP:20240101T000000Z",
                f"DTSTART:{at:%Y%m%dT%H%M%SZ}",
                f"DTEND:{at + timedelta(minutes=30):%Y%m%dT%H%M%SZ}",
                f"SUMMARY:{word}",
                f"X-MICROSOFT-CDO-BUSYSTATUS:{state}",
                "END:VEVENT",
            ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def test_the_feeds_page_links_to_the_upload_page(client: FlaskClient, user_id: int) -> None:
    page = text(client.get("/settings/time-tracking/impulses"))
    assert f'href="{PAGE}"' in page
    form = text(client.get(PAGE))
    assert 'enctype="multipart/form-data"' in form
    assert "File → Save Calendar" in form


def test_upload_stores_occurrences_and_shows_them_on_the_dashboard(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    response = upload(client, ics(*THREE), filename="Outlook export.ics")

    feed = only_feed(query)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/settings/time-tracking/impulses/{feed.id}")
    assert (feed.kind, feed.name, feed.url_masked) == (
        "upload",
        "Outlook export",
        "Outlook export.ics",
    )
    assert feed.url_encrypted is None and feed.url_fingerprint.startswith("upload:")
    assert feed.content_hash and feed.event_count == 3 and feed.last_success_at
    assert feed.next_refresh_at.year == 9999
    summaries = query(
        lambda s: sorted(
            s.scalars(sa.select(Occurrence.summary).where(Occurrence.feed_id == feed.id))
        )
    )
    assert summaries == ["Planning", "Review", "Standup"]
    runs = query(lambda s: s.scalars(sa.select(SyncRun)).all())
    assert [(r.outcome, r.new, r.bytes) for r in runs] == [("ok", 3, len(ics(*THREE)))]

    flashed = text(client.get(response.headers["Location"]))
    assert "Imported “Outlook export”: 3 events" in flashed
    day = (today() + timedelta(days=1)).isoformat()
    panel = text(client.get(f"/?day={day}"))
    assert "Standup" in panel and "Outlook export" in panel
    listing = text(client.get("/settings/time-tracking/impulses"))
    assert "Outlook export" in listing  # listed with the subscriptions
    assert "Outlook export.ics" in text(client.get(PAGE))


def test_two_uploads_of_one_user_are_two_feeds(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    assert upload(client, ics(*THREE), name="Work").status_code == 302
    assert upload(client, ics(*THREE), name="Work again").status_code == 302
    names = query(lambda s: sorted(s.scalars(sa.select(Feed.name))))
    assert names == ["Work", "Work again"]


def test_reupload_updates_in_place_and_removes_vanished_softly(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    upload(client, ics(*THREE), name="Work")
    feed = only_feed(query)
    ids = dict(query(lambda s: s.execute(sa.select(Occurrence.uid, Occurrence.id)).all()))
    newer = ics(
        Event("a@test", "Standup (moved)", day=1, hour=10),
        Event("b@test", "Planning", day=2),
        Event("d@test", "Retro", day=4),
    )

    response = reupload(client, feed.id, newer, filename="work-v2.ics")

    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "1 new, 1 changed, 1 removed" in page
    rows = {
        o.uid: o
        for o in query(
            lambda s: s.scalars(sa.select(Occurrence).where(Occurrence.feed_id == feed.id)).all()
        )
    }
    assert rows["a@test"].id == ids["a@test"] and rows["a@test"].summary == "Standup (moved)"
    assert rows["c@test"].removed_at is not None  # soft: the row stays
    assert rows["d@test"].removed_at is None
    assert only_feed(query).url_masked == "work-v2.ics"
    outcomes = query(lambda s: s.scalars(sa.select(SyncRun.outcome).order_by(SyncRun.id)).all())
    assert outcomes == ["ok", "ok"]


def test_reupload_of_the_same_file_is_unchanged(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    upload(client, ics(*THREE, stamp="20240101T000000Z"))
    feed = only_feed(query)
    # Only DTSTAMP differs: the same calendar, as for a refresh.
    response = reupload(client, feed.id, ics(*THREE, stamp="20250101T000000Z"))
    assert "same file as last time" in text(client.get(response.headers["Location"]))
    runs = query(lambda s: s.execute(sa.select(SyncRun.outcome, SyncRun.unchanged)).all())
    assert sorted(runs) == [("ok", 0), ("unchanged", 3)]


def test_a_file_that_shrinks_a_lot_is_applied_not_held(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    upload(client, ics(*THREE))
    feed = only_feed(query)
    reupload(client, feed.id, ics(Event("a@test", "Standup", day=1)))
    feed = only_feed(query)
    assert feed.held is None
    removed = query(
        lambda s: s.scalar(
            sa.select(sa.func.count(Occurrence.id)).where(Occurrence.removed_at.is_not(None))
        )
    )
    assert removed == 2


def test_not_a_calendar_says_so_and_saves_nothing(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    response = upload(client, b"<html><body>Sign in to Outlook</body></html>", "calendar.ics")
    assert response.status_code == 400
    assert "This file is a web page, not a calendar" in text(response)
    assert "File → Save Calendar" in text(response)
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 0

    response = upload(client, b"", "empty.ics")
    assert response.status_code == 400 and "This file is empty" in text(response)


def test_no_file_chosen(client: FlaskClient, user_id: int, query: Any) -> None:
    response = upload(client, None)
    assert response.status_code == 400
    assert "Choose the .ics file you exported from Outlook." in text(response)
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 0


def test_a_file_over_the_fetch_cap_is_refused(
    app: Flask, client: FlaskClient, user_id: int, query: Any
) -> None:
    # The same setting as for fetches. (Kept under werkzeug's 500 KB in-memory
    # threshold: the test client leaks the temporary file of a bigger body.)
    app.config["TIMEPULSE_FEED_MAX_BYTES"] = 256 * 1024
    body = ics(*THREE)
    big = body.replace(b"END:VCALENDAR", b"X-PAD:" + b"x" * (300 * 1024) + b"\r\nEND:VCALENDAR")

    response = upload(client, big)

    assert response.status_code == 400
    assert "larger than 0.25 MiB" in text(response)
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 0


def test_a_request_over_the_upload_limit_gets_the_upload_page(
    app: Flask, client: FlaskClient, user_id: int
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = upload(client, b"BEGIN:VCALENDAR\r\n" + b"x" * 4096)
    assert response.status_code == 413
    assert "The file is larger than" in text(response)
    assert 'enctype="multipart/form-data"' in text(response)


def test_the_feed_limit_counts_uploads_and_subscriptions(
    app: Flask, client: FlaskClient, user_id: int, query: Any
) -> None:
    app.config["TIMEPULSE_MAX_FEEDS"] = 1
    assert upload(client, ics(*THREE)).status_code == 302

    response = upload(client, ics(*THREE), name="Second")

    assert response.status_code == 400
    assert "at most 1 calendars" in text(response)
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 1


def test_another_users_upload_feed_is_not_found(
    app: Flask, client: FlaskClient, user_id: int, auth: Any, make_user: Any, query: Any
) -> None:
    upload(client, ics(*THREE))
    feed = only_feed(query)
    auth.logout()
    make_user("eve@example.com")
    auth.login("eve@example.com")

    assert client.get(f"/settings/time-tracking/impulses/{feed.id}/upload").status_code == 404
    assert reupload(client, feed.id, ics(Event("x@test", "Eve's"))).status_code == 404
    assert only_feed(query).event_count == 3


def test_availability_only_file_is_diagnosed(client: FlaskClient, user_id: int, query: Any) -> None:
    upload(client, availability_only(), name="Busy times")
    feed = only_feed(query)
    assert feed.detail_level == "availability_only"
    assert "availability_only" in [d["code"] for d in feed.diagnostics]
    panel = text(client.get("/"))
    assert "Your calendar only shares Busy/Free" in panel


def test_csrf_is_required(app: Flask, client: FlaskClient, user_id: int, query: Any) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = upload(client, ics(*THREE))
    assert response.status_code == 400
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 0


def test_upload_feeds_are_never_claimed_for_refresh(
    app: Flask, client: FlaskClient, user_id: int, query: Any, refresh: Any
) -> None:
    from app.refresh.scheduler import claim_due_feed_ids

    upload(client, ics(*THREE))
    feed = only_feed(query)
    far_past = datetime(2000, 1, 1, tzinfo=UTC)

    def make_due(session: Any) -> None:
        session.get(Feed, feed.id).next_refresh_at = far_past
        session.commit()

    query(make_due)
    assert query(lambda s: claim_due_feed_ids(10, datetime.now(UTC), session=s)) == []
    assert refresh(feed.id).outcome == "skipped"
    assert only_feed(query).event_count == 3


def test_a_subscription_cannot_be_reuploaded(
    client: FlaskClient, user_id: int, query: Any, make_feed: Any, feed_url: str
) -> None:
    feed_id = make_feed(user_id, feed_url)
    response = reupload(client, feed_id, ics(*THREE))
    assert response.status_code == 302
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Occurrence.id)))) == 0
