"""A NUL byte in a feed costs nothing but the NUL.

Found by the fuzzer on PostgreSQL: a feed with a NUL in a subject made every
refresh fail as an internal error ("PostgreSQL text fields cannot contain NUL
(0x00) bytes"), so the calendar never updated again. SQLite stored it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.models import Occurrence
from tests.refresh.conftest import FEED_PATH, THREE, ics
from tests.support.feed_server import FeedServer


def test_a_nul_in_a_subject_is_dropped_and_the_refresh_succeeds(
    feed_server: FeedServer, feed_url: str, make_user: Any, make_feed: Any, refresh: Any, query: Any
) -> None:
    feed_server.route(FEED_PATH, body=ics(*THREE).replace(b"Planning", b"Plan\x00ning"))
    feed_id = make_feed(make_user(), feed_url)

    result = refresh(feed_id)

    assert result.outcome == "ok", result.summary()
    subjects = query(lambda s: set(s.scalars(sa.select(Occurrence.summary)).all()))
    assert subjects == {"Standup", "Planning", "Review"}
