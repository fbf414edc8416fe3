"""Settings → Time Tracking → Impulses, through the real pages and a real HTTPS feed."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from app.models import Feed, Occurrence, SyncRun, TimeEntry
from tests.refresh.conftest import FEED_PATH, THREE, TOKEN, ics
from tests.support.feed_server import FeedServer

PAGE = "/settings/time-tracking/impulses"


def add(
    client: FlaskClient, url: str, action: str = "check", name: str = "Work", **extra: str
) -> Any:
    return client.post(PAGE, data={"url": url, "name": name, "action": action, **extra})


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def test_empty_state_explains_how_to_publish(client: FlaskClient, user_id: int) -> None:
    page = text(client.get(PAGE))
    assert "No calendars yet" in page
    assert "/help/troubleshooting#publish-outlook-web" in page
    assert "/help/troubleshooting#publish-outlook-desktop" in page


def test_check_shows_what_was_found_and_saves_nothing(
    client: FlaskClient, user_id: int, feed_server: FeedServer, feed_url: str, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))

    response = add(client, "  " + feed_url + "\n")

    page = text(response)
    assert response.status_code == 200
    assert "3 events in the calendar" in page
    assert "Detail level" in page
    assert "Save feed" in page
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 0


def test_webcal_link_is_rewritten_to_https(
    client: FlaskClient, user_id: int, feed_server: FeedServer, feed_url: str, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    webcal = feed_url.replace("https://", "webcal://")

    response = add(client, webcal, action="save")

    assert response.status_code == 302
    assert feed_server.hits(FEED_PATH) >= 1  # fetched over https
    feed = query(lambda s: s.scalars(sa.select(Feed)).one())
    from app.refresh.secrets import feed_cipher

    assert query(lambda s: feed_cipher(client.application).decrypt(feed.url_encrypted)) == feed_url


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ("http://outlook.office365.com/owa/calendar/x/y/calendar.ics", "starts with https://"),
        ("not a link at all", "This is not a web link"),
        ("mailto:someone@example.com", "This is not a web link"),
    ],
)
def test_link_rules_refuse_with_a_clear_message(
    client: FlaskClient, user_id: int, query: Any, link: str, expected: str
) -> None:
    response = add(client, link, action="save")

    assert response.status_code == 400
    assert expected in text(response)
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 0


def test_owa_html_link_offers_the_ics_link(
    client: FlaskClient, user_id: int, feed_server: FeedServer
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    html_link = feed_server.url(FEED_PATH.replace(".ics", ".html"))

    response = add(client, html_link)

    page = text(response)
    assert response.status_code == 400
    assert "not to the calendar itself" in page
    assert "Use the ICS link instead" in page
    assert f'value="{feed_server.url(FEED_PATH)}"' in page
    assert "/help/troubleshooting#ics-vs-html" in page


def test_not_a_calendar_and_unreachable_are_explained(
    client: FlaskClient, user_id: int, feed_server: FeedServer, query: Any
) -> None:
    feed_server.route("/login.ics", body="<html><body>Sign in</body></html>")
    page = text(add(client, feed_server.url("/login.ics"), action="save"))
    assert "This is not a calendar" in page and "web page" in page

    unreachable = feed_server.url("/calendar.ics").replace(str(feed_server.port), "1")
    response = add(client, unreachable, action="save")
    assert response.status_code == 400
    assert "Could not connect" in text(response)
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 0


def test_same_link_twice_is_refused(
    client: FlaskClient, user_id: int, feed_server: FeedServer, feed_url: str, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    assert add(client, feed_url, action="save").status_code == 302

    response = add(client, feed_url.replace("https://", "webcal://"), action="save", name="Again")

    assert response.status_code == 400
    assert "You already subscribe to this calendar" in text(response)
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 1


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {
        "TIMEPULSE_ALLOW_PRIVATE_FEEDS": True,
        "TIMEPULSE_REFRESH_INLINE": True,
        "TIMEPULSE_MAX_FEEDS": 2,
    }


def test_feed_limit_is_enforced(
    client: FlaskClient, user_id: int, feed_server: FeedServer, query: Any
) -> None:
    for n in range(3):
        feed_server.route(f"/c{n}.ics", body=ics(*THREE))
    assert add(client, feed_server.url("/c0.ics"), action="save", name="A").status_code == 302
    assert add(client, feed_server.url("/c1.ics"), action="save", name="B").status_code == 302

    response = add(client, feed_server.url("/c2.ics"), action="save", name="C")

    assert response.status_code == 400
    assert "at most 2 calendars" in text(response)
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Feed.id)))) == 2


def test_editing_at_the_limit_and_repasting_the_same_link_work(
    client: FlaskClient, user_id: int, feed_server: FeedServer, query: Any
) -> None:
    for n in range(2):
        feed_server.route(f"/c{n}.ics", body=ics(*THREE))
        add(client, feed_server.url(f"/c{n}.ics"), action="save", name=f"F{n}")
    feed_id = query(lambda s: s.scalar(sa.select(Feed.id).where(Feed.name == "F0")))

    same = client.post(
        f"{PAGE}/{feed_id}/edit", data={"name": "F0", "url": feed_server.url("/c0.ics")}
    )
    other = client.post(
        f"{PAGE}/{feed_id}/edit", data={"name": "F0", "url": feed_server.url("/c1.ics")}
    )

    assert same.status_code == 302
    assert other.status_code == 400 and "already subscribe" in text(other)


def test_saved_feed_is_listed_masked_and_imported(
    client: FlaskClient, user_id: int, feed_server: FeedServer, feed_url: str, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))

    response = add(client, feed_url, action="save")
    feed_id = query(lambda s: s.scalar(sa.select(Feed.id)))
    assert response.headers["Location"].endswith(f"{PAGE}/{feed_id}")

    listing = text(client.get(PAGE))
    page = text(client.get(f"{PAGE}/{feed_id}"))
    for html in (listing, page):
        assert "localhost" in html
        assert TOKEN not in html and feed_url not in html
    assert "active" in listing and "last refreshed" in listing and "next in" in listing
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Occurrence.id)))) == 3
    assert "Sync history" in page and "ok" in page


def test_another_users_feed_answers_404(
    client: FlaskClient, make_user: Any, make_feed: Any, feed_url: str, user_id: int
) -> None:
    other = make_feed(make_user("bob@example.com"), feed_url)

    assert client.get(f"{PAGE}/{other}").status_code == 404
    assert client.get(f"{PAGE}/{other}/status").status_code == 404
    assert client.get(f"{PAGE}/{other}/disconnect").status_code == 404
    for action in ("edit", "pause", "resume", "refresh", "reimport", "disconnect"):
        assert client.post(f"{PAGE}/{other}/{action}", data={"name": "x"}).status_code == 404


def test_refresh_now_and_status_endpoint(
    client: FlaskClient,
    user_id: int,
    make_feed: Any,
    feed_server: FeedServer,
    feed_url: str,
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE), etag='"v1"')
    feed_id = make_feed(user_id, feed_url)
    before = client.get(f"{PAGE}/{feed_id}/status").get_json()
    assert before["progress"] == "queued" and before["last_refreshed"] is None

    response = client.post(f"{PAGE}/{feed_id}/refresh")

    assert response.status_code == 302
    status = client.get(f"{PAGE}/{feed_id}/status").get_json()
    assert status["progress"] == "done" and status["state"] == "active"
    assert status["counts"] == {"new": 3, "changed": 0, "removed": 0, "unchanged": 0}
    assert status["last_refreshed"] and status["next"]
    assert status["error"] is None


def test_full_reimport_fetches_without_validators_and_reparses(
    client: FlaskClient,
    user_id: int,
    make_feed: Any,
    feed_server: FeedServer,
    feed_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.feeds import engine

    parses: list[int] = []
    real = engine.inspect_calendar
    monkeypatch.setattr(
        engine, "inspect_calendar", lambda *a, **k: parses.append(1) or real(*a, **k)
    )
    feed_server.route(FEED_PATH, body=ics(*THREE), etag='"v1"')
    feed_id = make_feed(user_id, feed_url)
    client.post(f"{PAGE}/{feed_id}/refresh")
    client.post(f"{PAGE}/{feed_id}/refresh")
    assert len(parses) == 1  # the second one was a 304

    client.post(f"{PAGE}/{feed_id}/reimport")

    assert len(parses) == 2
    assert feed_server.requests[-1].header("If-None-Match") is None
    status = client.get(f"{PAGE}/{feed_id}/status").get_json()
    assert status["outcome"] == "ok" and status["counts"]["unchanged"] == 3


def test_pause_and_resume(
    client: FlaskClient,
    user_id: int,
    make_feed: Any,
    feed_server: FeedServer,
    feed_url: str,
    query: Any,
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(user_id, feed_url)

    client.post(f"{PAGE}/{feed_id}/pause")
    assert query(lambda s: s.get(Feed, feed_id).state) == "paused"
    client.post(f"{PAGE}/{feed_id}/refresh")
    assert feed_server.hits(FEED_PATH) == 0  # a paused feed is not fetched

    client.post(f"{PAGE}/{feed_id}/resume")
    assert query(lambda s: s.get(Feed, feed_id).state) == "active"
    assert feed_server.hits(FEED_PATH) == 1


def test_edit_keeps_the_link_unless_a_new_one_is_pasted(
    client: FlaskClient,
    user_id: int,
    make_feed: Any,
    feed_server: FeedServer,
    feed_url: str,
    query: Any,
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_server.route("/new.ics", body=ics(*THREE[:2]))
    feed_id = make_feed(user_id, feed_url)
    token_before = query(lambda s: s.get(Feed, feed_id).url_fingerprint)
    masked_before = query(lambda s: s.get(Feed, feed_id).url_masked)

    response = client.post(
        f"{PAGE}/{feed_id}/edit", data={"name": "Office", "colour": "#112233", "url": ""}
    )
    assert response.status_code == 302
    feed = query(lambda s: (s.get(Feed, feed_id).name, s.get(Feed, feed_id).url_fingerprint))
    assert feed == ("Office", token_before)

    response = client.post(
        f"{PAGE}/{feed_id}/edit", data={"name": "Office", "url": "http://example.com/x.ics"}
    )
    assert response.status_code == 400 and "starts with http://" in text(response)

    client.post(
        f"{PAGE}/{feed_id}/edit", data={"name": "Office", "url": feed_server.url("/new.ics")}
    )
    assert query(lambda s: s.get(Feed, feed_id).url_fingerprint) != token_before
    assert query(lambda s: s.get(Feed, feed_id).url_masked) != masked_before


def test_disconnect_removes_impulses_and_keeps_entries(
    client: FlaskClient,
    user_id: int,
    make_feed: Any,
    make_entry: Any,
    refresh: Any,
    feed_server: FeedServer,
    feed_url: str,
    query: Any,
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(user_id, feed_url, name="Work calendar")
    refresh(feed_id)
    occ = query(lambda s: s.scalars(sa.select(Occurrence).where(Occurrence.uid == "a@test")).one())
    entry_id = make_entry(user_id, occ.start, occ.end, description="Standup", occurrence_id=occ.id)

    confirm = client.get(f"{PAGE}/{feed_id}/disconnect")
    assert "Your time entries stay" in text(confirm)
    response = client.post(f"{PAGE}/{feed_id}/disconnect")

    assert response.status_code == 302
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Occurrence.id)))) == 0
    assert query(lambda s: s.scalar(sa.select(sa.func.count(SyncRun.id)))) == 0
    assert query(lambda s: s.get(Feed, feed_id)) is None
    entry = query(lambda s: s.get(TimeEntry, entry_id))
    assert entry.description == "Standup" and entry.start == occ.start
    assert entry.occurrence_id is None
    assert entry.source_snapshot["feed"] == "Work calendar"
    assert entry.source_snapshot["summary"] == "Standup"
