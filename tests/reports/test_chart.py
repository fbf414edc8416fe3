"""The server-drawn SVG: well-formed, one rect per segment, accessible, CSP-safe."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

from app.reports.chart import LABEL_GAP, stacked_day_chart
from app.reports.totals import ProjectLine, Report
from tests.reports.support import load_report, period, prague

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_one_rect_per_non_zero_day_and_project(
    db: Any, make_user: Any, make_project: Any, make_entry: Any
) -> None:
    uid = make_user()
    apollo = make_project(uid, "Apollo", colour="#112233")
    gemini = make_project(uid, "Gemini", colour="#445566")
    make_entry(uid, prague(2026, 3, 2, 9), prague(2026, 3, 2, 11), project_id=apollo)
    make_entry(uid, prague(2026, 3, 2, 12), prague(2026, 3, 2, 13), project_id=apollo)
    make_entry(uid, prague(2026, 3, 2, 14), prague(2026, 3, 2, 15), project_id=gemini)
    make_entry(uid, prague(2026, 3, 4, 23), prague(2026, 3, 5, 1), project_id=gemini)
    make_entry(uid, prague(2026, 3, 6, 9), prague(2026, 3, 6, 10))

    report = load_report(uid, period("2026-03-02", "2026-03-08"))
    svg = _parse(stacked_day_chart(report))

    rects = svg.findall(f"{SVG}rect")
    # Mon: Apollo + Gemini, Wed: Gemini, Thu: Gemini, Fri: no project.
    assert len(rects) == 5
    fills = [r.get("fill") for r in rects]
    assert fills.count("#112233") == 1 and fills.count("#445566") == 3
    titles = [r.find(f"{SVG}title").text for r in rects]
    assert "Mon 2 Mar 2026 · Apollo: 3:00" in titles
    assert "Wed 4 Mar 2026 · Gemini: 1:00" in titles
    assert "Thu 5 Mar 2026 · Gemini: 1:00" in titles


def test_bar_heights_are_proportional_to_hours(db: Any, make_user: Any, make_entry: Any) -> None:
    uid = make_user()
    make_entry(uid, prague(2026, 3, 2, 9), prague(2026, 3, 2, 13))
    make_entry(uid, prague(2026, 3, 3, 9), prague(2026, 3, 3, 11))

    svg = _parse(stacked_day_chart(load_report(uid, period("2026-03-02", "2026-03-08"))))

    four, two = (float(r.get("height")) for r in svg.findall(f"{SVG}rect"))
    assert abs(four - 2 * two) < 0.02


def test_accessible_and_free_of_inline_styles_and_scripts(
    db: Any, make_user: Any, make_project: Any, make_entry: Any
) -> None:
    uid = make_user()
    sneaky = make_project(uid, '<script>alert("x")</script> & co')
    make_entry(uid, prague(2026, 3, 2, 9), prague(2026, 3, 2, 10), project_id=sneaky)

    markup = str(stacked_day_chart(load_report(uid, period("2026-03-02", "2026-03-08"))))
    svg = _parse(markup)

    assert svg.get("role") == "img"
    labelled_by = svg.get("aria-labelledby").split()
    ids = {el.get("id"): el for el in svg.iter() if el.get("id")}
    assert all(label in ids for label in labelled_by)
    assert ids[labelled_by[0]].tag == f"{SVG}title"
    assert "2026-03-02 to 2026-03-08" in ids[labelled_by[0]].text
    assert "<script" not in markup and "style=" not in markup
    assert svg.find(f"{SVG}rect/{SVG}title").text.endswith('<script>alert("x")</script> & co: 1:00')


def test_a_long_range_still_draws_and_labels_sparingly(
    db: Any, make_user: Any, make_entry: Any
) -> None:
    uid = make_user()
    for day in range(1, 29):
        make_entry(uid, prague(2026, 2, day, 9), prague(2026, 2, day, 9) + timedelta(hours=day % 5))

    svg = _parse(stacked_day_chart(load_report(uid, period("2025-03-01", "2026-02-28"))))

    assert len(svg.findall(f"{SVG}rect")) == sum(1 for day in range(1, 29) if day % 5)
    x_labels = [t for t in svg.findall(f"{SVG}text") if t.get("class") == "chart-x"]
    assert 5 < len(x_labels) < 30


def _one_hour_a_day(first: str, last: str) -> Report:
    chosen = period(first, last)
    hour = {None: timedelta(hours=1)}
    return Report(
        period=chosen,
        projects=[ProjectLine(None, "No project", "", "#888888")],
        by_day=dict.fromkeys(chosen.days, timedelta(hours=1)),
        by_day_project={day: hour for day in chosen.days},
        entry_count=len(chosen.days),
    )


def test_day_labels_stay_apart_so_a_phone_can_read_them() -> None:
    """Text is in SVG units: labels must fit the drawing's width without touching."""
    for first, last, labelled in (
        ("2026-03-02", "2026-03-08", 7),  # a week: every day
        ("2026-03-01", "2026-03-31", 5),  # a month: weekly
        ("2025-03-01", "2026-02-28", 9),  # a year: every six weeks
    ):
        svg = _parse(stacked_day_chart(_one_hour_a_day(first, last)))
        xs = [float(t.get("x")) for t in svg.findall(f"{SVG}text") if t.get("class") == "chart-x"]
        assert len(xs) == labelled, (first, last)
        assert all(b - a >= LABEL_GAP for a, b in zip(xs, xs[1:], strict=False)), (first, last)
        width = float(svg.get("viewBox").split()[2])
        assert width <= 600  # shown near 1:1 at the CSS min-width, not shrunk to a third
