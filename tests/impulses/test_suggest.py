"""Suggested projects: the user's rules first, then the last choice for the series or subject."""

from __future__ import annotations

from datetime import date
from typing import Any

from app.models import Project
from tests.conftest import utc


def suggestion_text(client: Any, day: str = "2025-11-11") -> str:
    return client.get("/", query_string={"day": day}).get_data(as_text=True)


def tracked_before(
    app: Any, user_id: int, feed_id: int, make_occurrence: Any, project: int | None, **occ: Any
) -> int:
    """An occurrence on Tue 4 Nov 2025 tracked onto ``project``."""
    from app.extensions import db
    from app.models import Occurrence, TimeEntry

    occ_id = make_occurrence(user_id, feed_id, utc(2025, 11, 4, 8), state="tracked", **occ)
    with app.app_context():
        o = db.session.get(Occurrence, occ_id)
        db.session.add(
            TimeEntry(
                user_id=user_id,
                start=o.start,
                end=o.end,
                project_id=project,
                occurrence_id=occ_id,
                description=o.summary,
            )
        )
        db.session.commit()
    return occ_id


def test_rules_first_in_their_order(
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
    make_rule: Any,
) -> None:
    internal, sales = make_project(user_id, "Internal"), make_project(user_id, "Sales")
    make_rule(user_id, "subject", "contains", "Standup", internal)
    make_rule(user_id, "subject", "matches", r"^(call|demo)\b", sales)
    make_rule(user_id, "location", "contains", "customer hq", sales)
    make_rule(user_id, "organizer", "contains", "boss@", internal)
    make_occurrence(user_id, feed_id, utc(2025, 11, 11, 8), summary="Team STANDUP")
    make_occurrence(user_id, feed_id, utc(2025, 11, 11, 9), summary="Demo for ACME")
    make_occurrence(
        user_id, feed_id, utc(2025, 11, 11, 10), summary="Lunch", location="Customer HQ"
    )
    make_occurrence(user_id, feed_id, utc(2025, 11, 11, 11), summary="1:1", organizer="boss@x.org")
    make_occurrence(user_id, feed_id, utc(2025, 11, 11, 12), summary="Nothing fits")
    page = suggestion_text(client)
    assert 'Internal <span class="muted">(rule: subject contains &#39;Standup&#39;)' in page
    assert 'Sales <span class="muted">(rule: subject matches &#39;^(call|demo)\\b&#39;)' in page
    assert "(rule: location contains &#39;customer hq&#39;)" in page
    assert "(rule: organizer contains &#39;boss@&#39;)" in page
    assert page.count("no project suggested") == 1


def test_first_fitting_rule_wins_and_order_can_change(
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
    make_rule: Any,
) -> None:
    a, b = make_project(user_id, "Alpha"), make_project(user_id, "Beta")
    make_rule(user_id, "subject", "contains", "sync", a)
    second = make_rule(user_id, "subject", "contains", "team", b)
    make_occurrence(user_id, feed_id, utc(2025, 11, 11, 8), summary="Team sync")
    assert 'Alpha <span class="muted">(rule: subject contains &#39;sync&#39;)' in suggestion_text(
        client
    )
    client.post(f"/settings/time-tracking/rules/{second}/move", data={"direction": "up"})
    assert 'Beta <span class="muted">(rule: subject contains &#39;team&#39;)' in suggestion_text(
        client
    )


def test_rules_of_archived_projects_are_skipped(
    app: Any,
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
    make_rule: Any,
    update: Any,
) -> None:
    old, new = make_project(user_id, "Old"), make_project(user_id, "New")
    make_rule(user_id, "subject", "contains", "review", old)
    make_rule(user_id, "subject", "contains", "review", new)
    update(Project, old, archived=True)
    make_occurrence(user_id, feed_id, utc(2025, 11, 11, 8), summary="Code review")
    assert 'New <span class="muted">(rule: subject contains' in suggestion_text(client)


def test_same_series_from_history(
    app: Any,
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
) -> None:
    project = make_project(user_id, "Apollo")
    tracked_before(app, user_id, feed_id, make_occurrence, project, uid="series-1", summary="Sync")
    make_occurrence(
        user_id,
        feed_id,
        utc(2025, 11, 11, 8),
        uid="series-1",
        summary="Sync (moved room)",
        recurrence_id="2025-11-11T08:00:00Z",
    )
    assert 'Apollo <span class="muted">(same series as Tue 4 Nov)' in suggestion_text(client)


def test_latest_choice_of_the_series_wins(
    app: Any,
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
    make_entry: Any,
) -> None:
    from app.extensions import db
    from app.models import TimeEntry

    first, later = make_project(user_id, "First"), make_project(user_id, "Later")
    occ = tracked_before(app, user_id, feed_id, make_occurrence, first, uid="s", summary="Sync")
    newer = make_occurrence(
        user_id, feed_id, utc(2025, 11, 6, 8), uid="s", recurrence_id="x", state="tracked"
    )
    with app.app_context():
        db.session.add(
            TimeEntry(
                user_id=user_id,
                start=utc(2025, 11, 6, 8),
                end=utc(2025, 11, 6, 9),
                project_id=later,
                occurrence_id=newer,
            )
        )
        db.session.commit()
    make_occurrence(user_id, feed_id, utc(2025, 11, 11, 8), uid="s", recurrence_id="y")
    assert occ
    assert 'Later <span class="muted">(same series as Thu 6 Nov)' in suggestion_text(client)


def test_same_subject_from_history(
    app: Any,
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
) -> None:
    project = make_project(user_id, "Hermes")
    tracked_before(app, user_id, feed_id, make_occurrence, project, summary="Customer call")
    make_occurrence(user_id, feed_id, utc(2025, 11, 11, 8), summary="Customer call")
    assert 'Hermes <span class="muted">(same subject as Tue 4 Nov)' in suggestion_text(client)


def test_series_beats_subject_and_rules_beat_both(
    app: Any,
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
    make_rule: Any,
) -> None:
    by_series, by_subject = make_project(user_id, "Series"), make_project(user_id, "Subject")
    tracked_before(app, user_id, feed_id, make_occurrence, by_series, uid="u1", summary="Planning")
    tracked_before(app, user_id, feed_id, make_occurrence, by_subject, uid="u2", summary="Planning")
    make_occurrence(
        user_id, feed_id, utc(2025, 11, 11, 8), uid="u1", recurrence_id="r", summary="Planning"
    )
    assert 'Series <span class="muted">(same series' in suggestion_text(client)
    ruled = make_project(user_id, "Ruled")
    make_rule(user_id, "subject", "contains", "plan", ruled)
    assert 'Ruled <span class="muted">(rule:' in suggestion_text(client)


def test_no_suggestion_from_busy_words_or_other_users(
    app: Any,
    client: Any,
    user_id: int,
    make_feed: Any,
    make_occurrence: Any,
    make_project: Any,
    make_user: Any,
) -> None:
    feed = make_feed(user_id, detail_level="availability_only")
    project = make_project(user_id, "Anything")
    tracked_before(app, user_id, feed, make_occurrence, project, summary="Busy")
    make_occurrence(user_id, feed, utc(2025, 11, 11, 8), summary="Busy")
    other = make_user(email="eve@example.com")
    other_feed = make_feed(other)
    eve_project = make_project(other, "Eve's")
    tracked_before(app, other, other_feed, make_occurrence, eve_project, summary="Mine too")
    full = make_feed(user_id, name="Full")
    make_occurrence(user_id, full, utc(2025, 11, 11, 9), summary="Mine too")
    page = suggestion_text(client)
    assert page.count("no project suggested") == 2


def test_no_suggestion_from_entries_without_project(
    app: Any,
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
) -> None:
    tracked_before(app, user_id, feed_id, make_occurrence, None, uid="s", summary="Sync")
    make_occurrence(user_id, feed_id, date(2025, 11, 11), uid="s", recurrence_id="r")
    assert "no project suggested" in suggestion_text(client)


def test_rule_matching_is_guarded() -> None:
    from app.impulses.rules import rule_fits
    from app.models import Occurrence, Rule

    occ = Occurrence(summary="a" * 10_000 + "!", location="", organizer="")
    rule = Rule(field="subject", operator="matches", pattern=r"a{3}!")
    # Only the first 500 characters are searched: a subject is never that long.
    assert rule_fits(rule, occ) is False
    broken = Rule(field="subject", operator="matches", pattern="(unclosed")
    assert rule_fits(broken, occ) is False


def test_the_panel_suggests_what_suggest_does(
    app: Any,
    client: Any,
    user_id: int,
    feed_id: int,
    make_occurrence: Any,
    make_project: Any,
) -> None:
    """The panel reads the history in its day query; ``suggest`` asks for it alone."""
    from app import timeutil
    from app.extensions import db
    from app.impulses.panel import Filters, build_panel
    from app.impulses.suggest import suggest
    from app.models import Occurrence, User

    a, b, c = (make_project(user_id, name) for name in ("A", "B", "C"))
    # Series and subject from different entries, from the same entry, or only one of them.
    tracked_before(app, user_id, feed_id, make_occurrence, a, uid="u1", summary="Planning")
    tracked_before(app, user_id, feed_id, make_occurrence, b, uid="u2", summary="Retro")
    tracked_before(app, user_id, feed_id, make_occurrence, c, uid="u3", summary="Demo")
    for hour, uid, summary in [
        (8, "u1", "Retro"),
        (9, "u2", "Retro"),
        (10, "u4", "Demo"),
        (11, "u3", None),
        (12, "u5", "Unknown"),
    ]:
        make_occurrence(
            user_id, feed_id, utc(2025, 11, 11, hour), uid=uid, recurrence_id=f"r{hour}",
            summary=summary,
        )  # fmt: skip
    with app.test_request_context():
        user = db.session.get(User, user_id)
        panel = build_panel(user, date(2025, 11, 11), Filters())
        got = {i.id: i.suggestion for i in panel.impulses}
        tz = timeutil.zone(user.timezone)
        want = {i: suggest(user_id, db.session.get(Occurrence, i), tz) for i in got}
    assert len(got) == 5
    assert got == want
    assert sorted(s.project_name for s in got.values()) == ["", "A", "B", "C", "C"]
