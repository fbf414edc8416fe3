"""Tracking impulses: one click, edit & track, track again, dismiss, track all."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from app.models import Occurrence, TimeEntry, User
from tests.conftest import utc

NEXT = "/?day=2025-11-04&hide_free=1"


def track(client: Any, occ: int, **form: str) -> Any:
    return client.post(f"/impulses/{occ}/track", data={"next": NEXT, "day": "2025-11-04", **form})


def test_one_click_creates_the_entry_and_marks_the_impulse(
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
    make_rule: Any,
    fetch: Any,
) -> None:
    project = make_project(user_id, "Apollo", billable_default=True)
    make_rule(user_id, "subject", "contains", "review", project)
    occ = make_occurrence(
        user_id,
        feed_id,
        utc(2025, 11, 4, 8),
        utc(2025, 11, 4, 9),
        "Design review",
        location="Room 4",
        recurrence_id="2025-11-04T08:00:00Z",
    )
    response = track(client, occ)
    assert response.status_code == 302 and response.headers["Location"] == NEXT
    [entry] = fetch(TimeEntry)
    assert (entry.start, entry.end) == (utc(2025, 11, 4, 8), utc(2025, 11, 4, 9))
    assert entry.description == "Design review"
    assert entry.project_id == project and entry.billable
    assert entry.occurrence_id == occ and entry.source_change is None
    snapshot = entry.source_snapshot
    assert snapshot["summary"] == "Design review" and snapshot["location"] == "Room 4"
    assert snapshot["start"] == "2025-11-04T08:00:00+00:00" and snapshot["feed"] == "Work calendar"
    assert snapshot["recurrence_id"] == "2025-11-04T08:00:00Z" and snapshot["all_day"] is False
    assert fetch(Occurrence, occ).state == "tracked"
    page = client.get(NEXT).get_data(as_text=True)
    assert "Tracked “Design review” 09:00–10:00 on Apollo." in page


def test_a_tracked_impulse_shows_its_entry(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8))
    track(client, occ)
    [entry] = fetch(TimeEntry)
    page = client.get("/?day=2025-11-04&show_done=1").get_data(as_text=True)
    assert f'href="/entries/{entry.id}/edit"' in page and "Tracked → view entry" in page


def test_tracking_again_asks_first(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8))
    track(client, occ)
    response = track(client, occ)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/impulses/{occ}/confirm?")
    assert len(fetch(TimeEntry)) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "already tracked" in page and 'name="confirm" value="1"' in page
    assert track(client, occ, confirm="1").status_code == 302
    assert len(fetch(TimeEntry)) == 2


def test_the_confirm_page_of_an_untracked_impulse_goes_back(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8))
    response = client.get(f"/impulses/{occ}/confirm", query_string={"next": NEXT})
    assert response.status_code == 302 and response.headers["Location"] == NEXT


def test_event_in_another_zone_than_the_user(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    # 10:00–11:00 in New York (EST, UTC-5) is 16:00–17:00 in Prague (CET).
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 15), utc(2025, 11, 4, 16), "US sync")
    form = client.get(f"/impulses/{occ}/track?day=2025-11-04").get_data(as_text=True)
    assert 'value="16:00"' in form and 'value="17:00"' in form and 'value="2025-11-04"' in form
    response = track(
        client, occ, day="2025-11-04", start="16:00", end="17:30", description="US sync", project=""
    )
    assert response.status_code == 302
    [entry] = fetch(TimeEntry)
    assert (entry.start, entry.end) == (utc(2025, 11, 4, 15), utc(2025, 11, 4, 16, 30))
    assert fetch(Occurrence, occ).state == "tracked"


def test_one_click_for_a_user_in_a_zone_far_from_the_event(
    client: Any, make_user: Any, auth: Any, make_feed: Any, make_occurrence: Any, fetch: Any
) -> None:
    uid = make_user(email="tokyo@example.com", timezone="Asia/Tokyo")
    auth.login("tokyo@example.com")
    feed = make_feed(uid)
    # 09:00 in Prague on the 4th is 17:00 in Tokyo: the same instant, another local date/time.
    occ = make_occurrence(uid, feed, utc(2025, 11, 4, 8), utc(2025, 11, 4, 9), "Prague standup")
    page = client.get("/?day=2025-11-04").get_data(as_text=True)
    assert "17:00–18:00" in page
    track(client, occ)
    [entry] = fetch(TimeEntry)
    assert (entry.start, entry.end) == (utc(2025, 11, 4, 8), utc(2025, 11, 4, 9))


def test_dst_spring_forward_day(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    # Prague, 30 March 2025: 02:00 CET becomes 03:00 CEST; the day has 23 hours.
    # 01:30 CET (00:30 UTC) to 03:30 CEST (01:30 UTC) lasts one hour.
    occ = make_occurrence(user_id, feed_id, utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1, 30), "DST")
    late = make_occurrence(user_id, feed_id, utc(2025, 3, 30, 21, 30), summary="Late")
    next_day = make_occurrence(user_id, feed_id, utc(2025, 3, 30, 22, 30), summary="Tomorrow")
    page = client.get("/?day=2025-03-30").get_data(as_text=True)
    assert "01:30–03:30" in page and "23:30–Mon 00:00" in page
    assert f"impulse-{late}" in page and f"impulse-{next_day}" not in page
    form = client.get(f"/impulses/{occ}/track?day=2025-03-30").get_data(as_text=True)
    assert 'value="01:30"' in form and 'value="03:30"' in form
    track(client, occ, day="2025-03-30")
    [entry] = fetch(TimeEntry)
    assert (entry.start, entry.end) == (utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1, 30))


def test_dst_fall_back_day_through_the_form(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    # Prague, 26 October 2025: 03:00 CEST becomes 02:00 CET; the day has 25 hours.
    occ = make_occurrence(
        user_id, feed_id, utc(2025, 10, 26, 0), utc(2025, 10, 26, 3), "Long night"
    )
    form = client.get(f"/impulses/{occ}/track?day=2025-10-26").get_data(as_text=True)
    assert 'value="02:00"' in form and 'value="04:00"' in form  # 02:00 CEST – 04:00 CET
    track(client, occ, day="2025-10-26", start="02:00", end="04:00", description="x")
    [entry] = fetch(TimeEntry)
    # The form reads the repeated 02:00 as the first one (CEST), so the entry keeps 3 hours.
    assert entry.end - entry.start == timedelta(hours=3)
    assert entry.start == utc(2025, 10, 26, 0)


def test_all_day_event_tracked_with_edited_times_on_a_dst_day(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, date(2025, 3, 30), summary="Hackathon")
    form = client.get(f"/impulses/{occ}/track?day=2025-03-30").get_data(as_text=True)
    assert 'value="09:00"' in form and 'value="17:00"' in form and 'value="2025-03-30"' in form
    assert "all day — enter the times you worked" in form
    track(client, occ, day="2025-03-30", start="08:00", end="12:00", description="Hackathon")
    [entry] = fetch(TimeEntry)
    # 30 March is CEST (UTC+2) after 02:00: 08:00 local is 06:00 UTC.
    assert (entry.start, entry.end) == (utc(2025, 3, 30, 6), utc(2025, 3, 30, 10))
    assert entry.source_snapshot["all_day"] is True


def test_all_day_one_click_takes_the_working_day_of_the_shown_date(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, date(2025, 11, 3), date(2025, 11, 6), "Conference")
    track(client, occ, day="2025-11-04")
    [entry] = fetch(TimeEntry)
    assert (entry.start, entry.end) == (utc(2025, 11, 4, 8), utc(2025, 11, 4, 16))


def test_edit_and_track_prefills_the_suggestion(
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
    make_rule: Any,
) -> None:
    project = make_project(user_id, "Internal", billable_default=True)
    make_rule(user_id, "subject", "contains", "standup", project)
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8, 58), utc(2025, 11, 4, 9, 13))
    page = client.get(f"/impulses/{occ}/track?day=2025-11-04").get_data(as_text=True)
    selected = re.search(r"<option([^>]*)>Internal</option>", page)
    assert selected and " selected" in selected.group(1)
    assert f'value="{project}"' in selected.group(1)
    assert re.search(r'<input checked id="billable"', page)
    assert "rule: subject contains &#39;standup&#39;" in page
    assert re.search(r'<textarea[^>]*name="description"[^>]*>\s*Standup</textarea>', page)


def test_edit_and_track_errors_rerender_with_input(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8))
    response = track(client, occ, day="2025-11-04", start="10:00", end="09:00", description="Oops")
    assert response.status_code == 400
    assert "The end is before the start" in response.get_data(as_text=True)
    assert fetch(TimeEntry) == [] and fetch(Occurrence, occ).state == "new"


def test_edit_and_track_a_tracked_impulse_needs_the_tick(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8))
    track(client, occ)
    form = {"day": "2025-11-04", "start": "09:00", "end": "09:30", "description": "Again"}
    response = track(client, occ, **form)
    assert response.status_code == 409 and "Tick “Track it again”" in response.get_data(
        as_text=True
    )
    assert len(fetch(TimeEntry)) == 1
    assert track(client, occ, confirm="1", **form).status_code == 302
    assert len(fetch(TimeEntry)) == 2


@pytest.mark.parametrize(
    ("minutes", "mode", "expected"),
    [
        (0, "nearest", ((8, 58), (9, 13))),
        (5, "nearest", ((9, 0), (9, 15))),
        (6, "nearest", ((9, 0), (9, 12))),
        (10, "nearest", ((9, 0), (9, 10))),
        (15, "nearest", ((9, 0), (9, 15))),
        (5, "up", ((8, 55), (9, 15))),
        (6, "up", ((8, 54), (9, 18))),
        (10, "up", ((8, 50), (9, 20))),
        (15, "up", ((8, 45), (9, 15))),
    ],
)
def test_rounding_when_tracking(
    app: Any,
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    update: Any,
    fetch: Any,
    minutes: int,
    mode: str,
    expected: Any,
) -> None:
    update(User, user_id, rounding_minutes=minutes, rounding_mode=mode)
    # 09:58–10:13 Prague time (08:58–09:13 UTC).
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8, 58), utc(2025, 11, 4, 9, 13))
    form = client.get(f"/impulses/{occ}/track?day=2025-11-04").get_data(as_text=True)
    (sh, sm), (eh, em) = expected
    assert f'value="{sh + 1:02d}:{sm:02d}"' in form and f'value="{eh + 1:02d}:{em:02d}"' in form
    if minutes:
        assert f"{minutes} minutes" in form
    track(client, occ)
    [entry] = fetch(TimeEntry)
    assert (entry.start, entry.end) == (utc(2025, 11, 4, sh, sm), utc(2025, 11, 4, eh, em))


def test_rounding_never_collapses_a_short_meeting(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, update: Any, fetch: Any
) -> None:
    update(User, user_id, rounding_minutes=15, rounding_mode="nearest")
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 9, 1), utc(2025, 11, 4, 9, 6))
    track(client, occ)
    [entry] = fetch(TimeEntry)
    assert (entry.start, entry.end) == (utc(2025, 11, 4, 9), utc(2025, 11, 4, 9, 15))


def test_rounding_follows_the_users_wall_clock() -> None:
    from zoneinfo import ZoneInfo

    from app.impulses.rounding import round_range

    # Kathmandu is UTC+05:45: 10:07–10:42 local (04:22–04:57 UTC) rounds to 10:00–10:45 local.
    kathmandu = ZoneInfo("Asia/Kathmandu")
    start, end = round_range(
        utc(2025, 1, 1, 4, 22), utc(2025, 1, 1, 4, 57), 15, "nearest", kathmandu
    )
    assert start.astimezone(kathmandu).strftime("%H:%M") == "10:00"
    assert end.astimezone(kathmandu).strftime("%H:%M") == "10:45"


def test_a_meeting_without_duration_cannot_be_tracked_in_one_click(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 9), utc(2025, 11, 4, 9), "Reminder")
    response = track(client, occ)
    assert response.status_code == 302
    assert fetch(TimeEntry) == [] and fetch(Occurrence, occ).state == "new"
    assert "The end must be after the start" in client.get(NEXT).get_data(as_text=True)


def test_dismiss_and_undo(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 9), summary="Lunch talk")
    response = client.post(f"/impulses/{occ}/dismiss", data={"next": NEXT})
    assert response.status_code == 302 and response.headers["Location"] == NEXT
    assert fetch(Occurrence, occ).state == "dismissed"
    page = client.get("/?day=2025-11-04").get_data(as_text=True)
    assert "Undo (under “Show tracked &amp; dismissed”) brings it back" in page
    assert f"impulse-{occ}" not in page and "1 tracked or dismissed" in page
    assert client.post(f"/impulses/{occ}/undo", data={"next": NEXT}).status_code == 302
    assert fetch(Occurrence, occ).state == "new"


def test_a_tracked_impulse_cannot_be_dismissed(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 9))
    track(client, occ)
    client.post(f"/impulses/{occ}/dismiss", data={"next": NEXT})
    assert fetch(Occurrence, occ).state == "tracked"


def test_track_all_skips_free_all_day_cancelled_and_done(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    ids = {
        "busy": make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8), summary="Busy one"),
        "tentative": make_occurrence(
            user_id, feed_id, utc(2025, 11, 4, 9), summary="Maybe", busy_status="TENTATIVE"
        ),
        "free": make_occurrence(
            user_id, feed_id, utc(2025, 11, 4, 10), summary="Focus", busy_status="FREE"
        ),
        "all_day": make_occurrence(user_id, feed_id, date(2025, 11, 4), summary="Offsite"),
        "cancelled": make_occurrence(
            user_id, feed_id, utc(2025, 11, 4, 11), summary="Off", status="CANCELLED"
        ),
        "dismissed": make_occurrence(
            user_id, feed_id, utc(2025, 11, 4, 12), summary="No", state="dismissed"
        ),
        "other_day": make_occurrence(user_id, feed_id, utc(2025, 11, 5, 9), summary="Tomorrow"),
    }
    response = client.post(
        "/impulses/track-all", data={"day": "2025-11-04", "next": NEXT}, follow_redirects=True
    )
    assert "Tracked 2 meetings of Tue 4 Nov." in response.get_data(as_text=True)
    tracked = {e.occurrence_id for e in fetch(TimeEntry)}
    assert tracked == {ids["busy"], ids["tentative"]}

    data = {"day": "2025-11-04", "include_free": "1", "include_all_day": "1"}
    client.post("/impulses/track-all", data=data)
    tracked = {e.occurrence_id for e in fetch(TimeEntry)}
    assert tracked == {ids["busy"], ids["tentative"], ids["free"], ids["all_day"]}

    client.post("/impulses/track-all", data={"day": "2025-11-04", "include_cancelled": "1"})
    assert len(fetch(TimeEntry)) == 5
    response = client.post("/impulses/track-all", data={"day": "2025-11-04"}, follow_redirects=True)
    assert "Nothing left to track" in response.get_data(as_text=True)
    assert len(fetch(TimeEntry)) == 5


def test_track_all_uses_suggestions(
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
    make_rule: Any,
    fetch: Any,
) -> None:
    project = make_project(user_id, "Internal")
    make_rule(user_id, "subject", "contains", "standup", project)
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8), summary="Daily standup")
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 9), summary="Customer call")
    client.post("/impulses/track-all", data={"day": "2025-11-04"})
    projects = {e.description: e.project_id for e in fetch(TimeEntry)}
    assert projects == {"Daily standup": project, "Customer call": None}


def test_track_all_json(client: Any, user_id: int, feed_id: int, make_occurrence: Any) -> None:
    make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8), summary="One")
    response = client.post(
        "/impulses/track-all",
        data={"day": "2025-11-04", "show_done": "1"},
        headers={"Accept": "application/json"},
    )
    body = response.get_json()
    assert body["ok"] and body["count"] == 1 and "Tracked 1 meeting " in body["message"]
    assert "data-impulse-list" in body["list"] and "Tracked → view entry" in body["list"]


def test_actions_answer_json_with_the_row(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8), summary="Weekly")
    json = {"Accept": "application/json"}
    body = client.post(f"/impulses/{occ}/track", data={"next": NEXT}, headers=json).get_json()
    [entry] = fetch(TimeEntry)
    assert body["ok"] and body["state"] == "tracked" and body["entry_id"] == entry.id
    assert f'id="impulse-{occ}"' in body["row"] and f"/entries/{entry.id}/edit" in body["row"]
    assert "Tracked “Weekly”" in body["message"]

    response = client.post(f"/impulses/{occ}/track", data={"next": NEXT}, headers=json)
    body = response.get_json()
    assert response.status_code == 409 and body["confirm"] is True
    assert body["confirm_url"].startswith(f"/impulses/{occ}/confirm")

    other = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 9), summary="Other")
    body = client.post(f"/impulses/{other}/dismiss", headers=json).get_json()
    assert body["state"] == "dismissed" and ">Undo<" in body["row"]
    body = client.post(f"/impulses/{other}/undo", headers=json).get_json()
    assert body["state"] == "new" and ">Track<" in body["row"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/impulses/{id}/track"),
        ("get", "/impulses/{id}/track"),
        ("get", "/impulses/{id}/confirm"),
        ("post", "/impulses/{id}/dismiss"),
        ("post", "/impulses/{id}/undo"),
    ],
)
def test_another_users_impulse_is_not_found(
    client: Any,
    user_id: int,
    make_user: Any,
    make_feed: Any,
    make_occurrence: Any,
    fetch: Any,
    method: str,
    path: str,
) -> None:
    other = make_user(email="eve@example.com")
    occ = make_occurrence(other, make_feed(other), utc(2025, 11, 4, 8))
    response = getattr(client, method)(path.format(id=occ))
    assert response.status_code == 404
    assert fetch(TimeEntry) == [] and fetch(Occurrence, occ).state == "new"


def test_actions_need_login(
    client: Any, make_user: Any, make_feed: Any, make_occurrence: Any
) -> None:
    uid = make_user()
    occ = make_occurrence(uid, make_feed(uid), utc(2025, 11, 4, 8))
    response = client.post(f"/impulses/{occ}/track")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_next_must_stay_on_the_site(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any
) -> None:
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8))
    response = client.post(f"/impulses/{occ}/dismiss", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_edit_and_track_form_posts_one_day_field(
    client: Any, user_id: int, feed_id: int, make_occurrence: Any, fetch: Any
) -> None:
    """The form's own date field and the panel day must not share a name: a
    browser posts both, and a doubled ``day`` made every Edit & track fail."""
    occ = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8), utc(2025, 11, 4, 9), "Review")
    page = client.get(f"/impulses/{occ}/track?day=2025-11-04").get_data(as_text=True)
    assert len(re.findall(r'name="day"', page)) == 1
    form = {"day": "2025-11-04", "panel_day": "2025-11-04", "start": "09:00", "end": "10:30"}
    response = client.post(f"/impulses/{occ}/track", data={**form, "description": "Review"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/?day=2025-11-04")
    [entry] = [e for e in fetch(TimeEntry) if e.occurrence_id == occ]
    assert entry.end - entry.start == timedelta(minutes=90)
