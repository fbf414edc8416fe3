"""Error messages stay readable after the URL is scrubbed from them.

Found by the hostile-feed suite: scrubbing removed every piece of the link's
path from the stored message, and an Outlook link's path holds the word
"calendar" twice (``/owa/calendar/…/calendar.ics``), so users read "The
connection to the … server broke off before the … arrived completely". The
secret parts are still removed.
"""

from __future__ import annotations

from typing import Any

from app.models import Feed
from tests.refresh.conftest import FEED_PATH, TOKEN
from tests.support.feed_server import FeedServer, Response


def test_a_failed_refresh_says_calendar_and_hides_the_token(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.script(FEED_PATH, [Response(reset=True)])
    feed_id = make_feed(make_user(), feed_url)

    result = refresh(feed_id)

    stored = query(lambda s: s.get(Feed, feed_id).last_error_message)
    assert result.error_kind == "network"
    assert stored == result.error_message
    assert "connection to the calendar server broke off" in stored
    assert "…" not in stored and TOKEN not in stored


def test_https_in_our_own_message_is_left_alone() -> None:
    from app.feeds.fetch import scrub_text

    text = "an address that does not start with https://. Timepulse only fetches calendars"
    assert scrub_text(text, [f"https://example.com{FEED_PATH}"]) == text
