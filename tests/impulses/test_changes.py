"""When the calendar changes after tracking: side by side, and the user chooses."""

from __future__ import annotations

from typing import Any

import pytest

from app.models import Occurrence, TimeEntry, User
from tests.conftest import utc

NEXT = "/?day=2025-11-04"


@pytest.fixture
def tracked(client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any) -> Any:
    """A meeting 09:00–10:00 Prague tracked with one click; returns (occurrence id, entry id)."""
    occ = make_occurrence(
        user_id, feed_id, utc(2025, 11, 4, 8), utc(2025, 11, 4, 9), "Planning", location="Room 1"
    )
    client.post(f"/impulses/{occ}/track")
    [entry] = fetch(TimeEntry)
    return occ, entry.id


def refresh_flags(update: Any, occ: int, entry: int, change: str, **occurrence: Any) -> None:
    """What a refresh does: change the occurrence, flag the entry, touch nothing else."""
    update(Occurrence, occ, **occurrence)
    update(TimeEntry, entry, source_change=change)


def resolve(client: Any, entry: int, choice: str, **headers: str) -> Any:
    return client.post(
        f"/impulses/changes/{entry}", data={"choice": choice, "next": NEXT}, headers=headers
    )


def test_moved_shows_side_by_side_and_changes_nothing_until_chosen(
    client: Any, tracked: Any, update: Any, fetch: Any
) -> None:
    occ, entry = tracked
    refresh_flags(update, occ, entry, "moved", start=utc(2025, 11, 4, 10), end=utc(2025, 11, 4, 11))
    page = client.get(NEXT).get_data(as_text=True)
    assert "Calendar changed" in page and ">moved<" in page
    assert "Tue 4 Nov 2025, 09:00–10:00" in page  # the entry
    assert "Tue 4 Nov 2025, 11:00–12:00" in page  # the calendar now
    assert "Keep my entry" in page and "Apply the calendar&#39;s version" in page
    changed_link = f'href="/impulses/changes/{entry}?next='
    assert "calendar changed" in client.get(NEXT + "&show_done=1").get_data(as_text=True)
    assert changed_link in client.get(NEXT + "&show_done=1").get_data(as_text=True)
    detail = client.get(f"/impulses/changes/{entry}").get_data(as_text=True)
    assert "The meeting was moved" in detail and "11:00–12:00" in detail
    timesheet = client.get("/entries/?week=2025-11-04").get_data(as_text=True)
    assert f'href="/impulses/changes/{entry}">calendar changed' in timesheet
    e = fetch(TimeEntry, entry)
    assert (e.start, e.source_change) == (utc(2025, 11, 4, 8), "moved")


def test_moved_apply_takes_the_new_times_rounded(
    client: Any, tracked: Any, update: Any, fetch: Any, user_id: int
) -> None:
    occ, entry = tracked
    update(User, user_id, rounding_minutes=15, rounding_mode="up")
    refresh_flags(
        update, occ, entry, "moved", start=utc(2025, 11, 4, 10, 5), end=utc(2025, 11, 4, 10, 50)
    )
    update(TimeEntry, entry, description="My own words")
    response = resolve(client, entry, "apply")
    assert response.status_code == 302 and response.headers["Location"] == NEXT
    e = fetch(TimeEntry, entry)
    assert (e.start, e.end) == (utc(2025, 11, 4, 10), utc(2025, 11, 4, 11))
    assert e.description == "My own words"  # the subject did not change: the user's words stay
    assert e.source_change is None and e.source_snapshot["start"] == "2025-11-04T10:05:00+00:00"
    assert "Calendar changed" not in client.get(NEXT).get_data(as_text=True)


def test_moved_keep_leaves_the_entry_and_remembers_the_new_version(
    client: Any, tracked: Any, update: Any, fetch: Any
) -> None:
    occ, entry = tracked
    refresh_flags(update, occ, entry, "moved", start=utc(2025, 11, 4, 10), end=utc(2025, 11, 4, 11))
    resolve(client, entry, "keep")
    e = fetch(TimeEntry, entry)
    assert (e.start, e.end, e.source_change) == (utc(2025, 11, 4, 8), utc(2025, 11, 4, 9), None)
    assert e.source_snapshot["start"] == "2025-11-04T10:00:00+00:00"


def test_renamed_apply_takes_the_new_subject(
    client: Any, tracked: Any, update: Any, fetch: Any
) -> None:
    occ, entry = tracked
    refresh_flags(update, occ, entry, "renamed", summary="Quarterly planning")
    page = client.get(NEXT).get_data(as_text=True)
    assert ">renamed<" in page and "Quarterly planning" in page
    resolve(client, entry, "apply")
    e = fetch(TimeEntry, entry)
    assert e.description == "Quarterly planning"
    assert (e.start, e.end) == (utc(2025, 11, 4, 8), utc(2025, 11, 4, 9))
    assert e.source_snapshot["summary"] == "Quarterly planning" and e.source_change is None


def test_renamed_keep(client: Any, tracked: Any, update: Any, fetch: Any) -> None:
    occ, entry = tracked
    refresh_flags(update, occ, entry, "renamed", summary="Something else")
    resolve(client, entry, "keep")
    e = fetch(TimeEntry, entry)
    assert e.description == "Planning" and e.source_change is None


def test_cancelled_offers_keep_or_delete(
    client: Any, tracked: Any, update: Any, fetch: Any
) -> None:
    occ, entry = tracked
    refresh_flags(update, occ, entry, "cancelled", status="CANCELLED")
    page = client.get(NEXT).get_data(as_text=True)
    assert ">cancelled<" in page and "Delete the entry" in page
    assert "Apply the calendar" not in page
    assert resolve(client, entry, "apply").status_code == 302
    assert fetch(TimeEntry, entry).source_change == "cancelled"  # refused: nothing changed
    resolve(client, entry, "keep")
    e = fetch(TimeEntry, entry)
    assert e.source_change is None and e.start == utc(2025, 11, 4, 8)


def test_cancelled_delete_removes_the_entry_and_dismisses_the_impulse(
    client: Any, tracked: Any, update: Any, fetch: Any
) -> None:
    occ, entry = tracked
    refresh_flags(update, occ, entry, "cancelled", status="CANCELLED")
    response = resolve(client, entry, "delete", Accept="application/json")
    assert response.get_json() == {
        "ok": True,
        "message": "Entry deleted.",
        "remove": True,
        "entry_id": entry,
    }
    assert fetch(TimeEntry) == []
    assert fetch(Occurrence, occ).state == "dismissed"


def test_removed_from_the_calendar_can_be_kept(
    client: Any, tracked: Any, update: Any, fetch: Any
) -> None:
    occ, entry = tracked
    refresh_flags(update, occ, entry, "removed", removed_at=utc(2025, 11, 5))
    page = client.get(NEXT + "&show_done=1").get_data(as_text=True)
    assert "removed from the calendar" in page and "Delete the entry" in page
    resolve(client, entry, "keep")
    assert fetch(TimeEntry, entry).source_change is None


def test_resolving_twice_says_so(client: Any, tracked: Any, update: Any) -> None:
    occ, entry = tracked
    refresh_flags(update, occ, entry, "renamed", summary="New")
    resolve(client, entry, "keep")
    response = resolve(client, entry, "keep", Accept="application/json")
    assert response.status_code == 400 and "no calendar change" in response.get_json()["message"]
    response = client.get(f"/impulses/changes/{entry}")
    assert response.status_code == 302


def test_another_users_entry_is_not_found(
    client: Any, user_id: int, make_user: Any, make_entry: Any, fetch: Any
) -> None:
    other = make_user(email="eve@example.com")
    entry = make_entry(
        other, utc(2025, 11, 4, 8), utc(2025, 11, 4, 9), source_change="moved", description="Eve"
    )
    assert client.get(f"/impulses/changes/{entry}").status_code == 404
    assert resolve(client, entry, "keep").status_code == 404
    assert fetch(TimeEntry, entry).source_change == "moved"
    assert ">Eve<" not in client.get(NEXT).get_data(as_text=True)


def test_a_change_whose_event_is_gone_offers_keep_or_delete(
    client: Any, tracked: Any, update: Any, app: Any
) -> None:
    from app.extensions import db

    occ, entry = tracked
    refresh_flags(update, occ, entry, "removed", removed_at=utc(2025, 11, 5))
    with app.app_context():  # the feed deleted since: its occurrences go, the entry stays
        db.session.delete(db.session.get(Occurrence, occ))
        db.session.commit()
    page = client.get(NEXT).get_data(as_text=True)
    assert "removed from the calendar" in page and "Planning" in page
    assert "<td>Tue 4 Nov 2025, 09:00–10:00</td><td>—" in page
    assert "Keep my entry" in page and "Delete the entry" in page
    assert "Apply the calendar" not in page
