"""The feed pages of a calendar imported from a file: no refresh talk, a way to upload again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient

from app.models import Feed, Occurrence, SyncRun
from tests.refresh.conftest import FEED_PATH, THREE, ics, today
from tests.refresh.test_upload import only_feed, reupload, text, upload
from tests.support.feed_server import FeedServer

LIST = "/settings/time-tracking/impulses"


def uploaded(client: FlaskClient, query: Any, body: bytes | None = None) -> Feed:
    assert upload(client, body or ics(*THREE), name="Exported").status_code == 302
    return only_feed(query)


def edit(client: FlaskClient, feed_id: int, **fields: str) -> Any:
    data = {"name": "Exported", "colour": "#6b46c1", "import_from": "", "url": "", **fields}
    return client.post(f"{LIST}/{feed_id}/edit", data=data)


def test_the_list_says_when_a_file_was_uploaded_not_when_it_refreshes(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    feed = uploaded(client, query)

    listing = text(client.get(LIST))

    assert "imported from a file · last uploaded just now" in listing
    assert "next in" not in listing and "last refreshed" not in listing
    assert f'href="{LIST}/{feed.id}/upload">Upload a new version' in listing


def test_the_feed_page_offers_a_new_version_and_no_refresh_facts(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    feed = uploaded(client, query)

    page = text(client.get(f"{LIST}/{feed.id}"))

    assert f'href="{LIST}/{feed.id}/upload">Upload a new version</a>' in page
    assert "Imported from a file" in page and "work.ics" in page
    assert "no answer yet" not in page and "Last response" not in page
    assert "every 15 minutes" not in page and "Refresh interval" not in page
    assert "next in" not in page
    assert "Refresh now" not in page and "Full re-import" not in page


def test_a_subscription_page_still_shows_its_refresh_facts(
    client: FlaskClient,
    user_id: int,
    make_feed: Any,
    feed_server: FeedServer,
    feed_url: str,
    refresh: Any,
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE))
    feed_id = make_feed(user_id, feed_url)
    refresh(feed_id)

    page = text(client.get(f"{LIST}/{feed_id}"))

    assert "every 15 minutes" in page and "HTTP 200" in page and "next in" in page
    assert "Upload a new version" not in page and "Imported from a file" not in page


def test_editing_import_from_of_a_file_stores_it_for_the_next_upload(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    feed = uploaded(client, query)
    new_date = today() - timedelta(days=10)

    response = edit(client, feed.id, import_from=new_date.isoformat())

    assert response.status_code == 302
    flashed = text(client.get(response.headers["Location"]))
    assert "Saved “Exported”." in flashed
    assert "applies to the next upload of the file" in flashed
    stored = only_feed(query)
    assert stored.import_from == new_date
    assert stored.progress == "done" and stored.next_refresh_at.year == 9999
    assert query(lambda s: s.scalar(sa.select(sa.func.count(SyncRun.id)))) == 1


def test_editing_only_the_name_of_a_file_says_nothing_about_uploads(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    feed = uploaded(client, query)

    response = edit(client, feed.id, name="Renamed")

    flashed = text(client.get(response.headers["Location"]))
    assert "Saved “Renamed”." in flashed and "new “import from” date" not in flashed
    assert only_feed(query).name == "Renamed"


def test_the_same_file_uploaded_after_a_new_import_from_is_read_again(
    client: FlaskClient, user_id: int, query: Any
) -> None:
    body = ics(*THREE)  # events tomorrow, in two and in three days
    later = (today() + timedelta(days=2)).isoformat()
    assert upload(client, body, name="Exported", import_from=later).status_code == 302
    feed = only_feed(query)
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Occurrence.id)))) == 2
    edit(client, feed.id, import_from="")  # back to the default: the last 90 days

    response = reupload(client, feed.id, body)

    flashed = text(client.get(response.headers["Location"]))
    assert "1 new, 0 changed, 0 removed" in flashed
    assert query(lambda s: s.scalar(sa.select(sa.func.count(Occurrence.id)))) == 3
    assert not only_feed(query).full_reimport
    again = text(client.get(reupload(client, feed.id, body).headers["Location"]))
    assert "same file as last time" in again


def test_a_link_posted_to_a_file_is_ignored(
    client: FlaskClient, user_id: int, query: Any, feed_url: str
) -> None:
    feed = uploaded(client, query)

    response = edit(client, feed.id, url=feed_url)

    assert response.status_code == 302
    stored = only_feed(query)
    assert stored.kind == "upload" and stored.url_encrypted is None
    assert stored.url_masked == "work.ics"
