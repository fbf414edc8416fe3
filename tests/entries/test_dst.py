"""Durations and daily totals across the DST changes in Europe/Prague.

2026-03-29: clocks jump from 02:00 to 03:00 (a 23-hour day).
2026-10-25: clocks fall back from 03:00 to 02:00 (a 25-hour day).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.entries.support import add, entries
from tests.support.pages import page

PRAGUE = ZoneInfo("Europe/Prague")
SPRING, AUTUMN = date(2026, 3, 29), date(2026, 10, 25)


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (AUTUMN, 25), (date(2026, 6, 1), 24)])
def test_day_bounds_follow_the_local_clock(day, hours):
    from app.timeutil import day_bounds

    start, end = day_bounds(day, PRAGUE)
    assert end - start == timedelta(hours=hours)
    assert start.astimezone(PRAGUE).hour == 0 and end.astimezone(PRAGUE).hour == 0


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 2), (AUTUMN, 4)])
def test_entry_from_one_to_four_local_lasts_what_the_clock_said(app, client, user_id, day, hours):
    response = add(client, day=day.isoformat(), start="01:00", end="04:00", description="Night")
    assert response.status_code == 302

    [entry] = entries(app, user_id)
    assert entry.end - entry.start == timedelta(hours=hours)

    text = page(client.get(f"/entries/?week={day.isoformat()}"))
    heading = re.search(rf'<h2 id="day-{day}">.*?<span class="dur">([^<]*)</span>', text, re.S)
    assert heading and heading.group(1) == f"{hours}:00"
    assert f"Week total: <strong>{hours}:00</strong>" in text
    assert "01:00–04:00" in text  # shown back in local wall-clock time


@pytest.mark.parametrize(("day", "hours"), [(SPRING, 23), (AUTUMN, 25)])
def test_a_whole_local_day_counts_its_real_length(app, client, user_id, day, hours):
    next_day = (day + timedelta(days=1)).isoformat()
    add(client, day=day.isoformat(), start="00:00", end="00:00", end_day=next_day)

    [entry] = entries(app, user_id)
    assert entry.end - entry.start == timedelta(hours=hours)
    text = page(client.get(f"/entries/?week={day.isoformat()}"))
    assert f"Week total: <strong>{hours}:00</strong>" in text


def test_split_by_local_day_across_the_autumn_change():
    from app.timeutil import parse_local, split_by_local_day

    start = parse_local("2026-10-24", "22:00", PRAGUE)
    end = parse_local("2026-10-25", "04:00", PRAGUE)

    parts = dict(split_by_local_day(start, end, PRAGUE))

    assert parts == {date(2026, 10, 24): timedelta(hours=2), AUTUMN: timedelta(hours=5)}


def test_dst_totals_in_the_service_agree_with_the_clock(app, user_id, make_entry):
    from app.entries.service import entries_between, totals_by_day
    from app.timeutil import day_bounds, parse_local

    make_entry(
        user_id,
        parse_local("2026-03-29", "01:00", PRAGUE),
        parse_local("2026-03-29", "04:00", PRAGUE),
    )
    with app.app_context():
        found = entries_between(user_id, *day_bounds(SPRING, PRAGUE))
        assert totals_by_day(found, PRAGUE) == {SPRING: timedelta(hours=2)}


def test_a_time_skipped_by_the_spring_change_is_refused_and_nothing_saved(
    client, user_id, app
) -> None:
    """02:30 never happens on 29 March 2026 in Prague; saving it would store
    03:30 behind the user's back."""
    response = add(client, day="2026-03-29", start="02:30", end="04:00")
    assert response.status_code == 400
    assert "02:30 does not exist on 29 Mar 2026 in Europe/Prague" in response.get_data(as_text=True)
    assert entries(app, user_id) == []
