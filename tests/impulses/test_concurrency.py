"""Two tabs clicking Track at the same moment make one entry.

The guarantee is the conditional UPDATE in ``tracking._claim``. To prove it
holds even when both requests got past every check in Python, the tests
hold each request at the claim until both have arrived, then let them race
into the database together (SQLite: the writer lock; PostgreSQL: the row lock).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from app.impulses import tracking
from app.models import Occurrence, TimeEntry, User
from tests.conftest import PASSWORD, utc


@pytest.fixture
def both_at_the_claim(monkeypatch: pytest.MonkeyPatch) -> threading.Barrier:
    """Make every claim wait until two requests are inside ``_claim``."""
    barrier = threading.Barrier(2, timeout=20)
    original = tracking._claim

    def claim(occ: Occurrence, *, again: bool) -> bool:
        barrier.wait()
        return original(occ, again=again)

    monkeypatch.setattr(tracking, "_claim", claim)
    return barrier


def run_together(*jobs: Any) -> list[Any]:
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Any) -> None:
        try:
            results[index] = job()
        except Exception as err:  # reported to the test, not swallowed
            results[index] = err

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_tabs_clicking_track_make_one_entry(
    app: Any,
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    fetch: Any,
    both_at_the_claim: threading.Barrier,
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8), summary="Race")
    second_tab = app.test_client()
    second_tab.post("/login", data={"email": "ada@example.com", "password": PASSWORD})

    def click(tab: Any) -> Any:
        return lambda: tab.post(f"/impulses/{occ}/track", headers={"Accept": "application/json"})

    first, second = run_together(click(client), click(second_tab))
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 409], (first, second)
    [entry] = fetch(TimeEntry)
    assert entry.occurrence_id == occ
    assert fetch(Occurrence, occ).state == "tracked"


def test_concurrent_track_impulse_calls_make_one_entry(
    app: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    fetch: Any,
    both_at_the_claim: threading.Barrier,
) -> None:
    from app.extensions import db

    occ_id = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8), utc(2025, 11, 4, 9))

    def session_tracks() -> str:
        with app.app_context():  # its own session, its own connection
            user = db.session.get(User, user_id)
            occ = db.session.get(Occurrence, occ_id)
            try:
                tracking.track_impulse(
                    user,
                    occ,
                    project_id=None,
                    start=occ.start,
                    end=occ.end,
                    description="Race",
                    billable=False,
                )
                db.session.commit()
                return "tracked"
            except tracking.AlreadyTracked:
                db.session.rollback()
                return "already"
            finally:
                db.session.remove()

    results = run_together(session_tracks, session_tracks)
    assert sorted(results) == ["already", "tracked"], results
    assert len(fetch(TimeEntry)) == 1


def test_concurrent_track_all_does_not_double(
    app: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    fetch: Any,
    both_at_the_claim: threading.Barrier,
) -> None:
    from datetime import date

    from app.extensions import db

    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8), summary="Only one")

    def track_all() -> int:
        with app.app_context():
            user = db.session.get(User, user_id)
            try:
                count = tracking.track_all(user, date(2025, 11, 4))
                db.session.commit()
                return count
            finally:
                db.session.remove()

    assert sorted(run_together(track_all, track_all)) == [0, 1]
    assert len(fetch(TimeEntry)) == 1
