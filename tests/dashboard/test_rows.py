"""Row helpers (app/dashboard/rows.py): the same links and swatches as the plain way."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask import render_template_string, url_for

from app.dashboard.rows import RowUrl, day_url, page_url, row_url, swatch_svg

ROWS = [
    ("impulses.track", "occurrence_id", {}),
    ("entries.edit", "entry_id", {}),
    ("impulses.change", "entry_id", {"next": "/?day=2025-11-04&show_done=1"}),
    ("impulses.track_form", "occurrence_id", {"day": "2025-11-04", "next": "/?a=1&b=2 3"}),
]


@pytest.mark.parametrize("endpoint, id_name, values", ROWS)
def test_row_links_are_what_url_for_makes(app: Any, endpoint: str, id_name: str, values: Any):
    for root in ("", "/timepulse"):  # a copy cached for one mount point is not used for another
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            for row_id in (1, 42, 987654321, 10**12):
                want = url_for(endpoint, **values, **{id_name: row_id})
                assert row_url(endpoint, id_name, **values)(row_id) == want


@pytest.mark.parametrize("values", [{}, {"show_done": "1"}, {"hide_free": "1", "show_done": "1"}])
def test_day_links_are_what_url_for_makes(app: Any, values: Any) -> None:
    for root in ("", "/timepulse"):
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            for day in (date(2025, 11, 4), date(1900, 1, 1), date(9000, 12, 31)):
                want = url_for("dashboard.index", day=day.isoformat(), **values)
                assert day_url("dashboard.index", **values)(day) == want


@pytest.mark.parametrize("endpoint", ["dashboard.index", "rules.index", "impulses.track_all"])
def test_page_links_are_what_url_for_makes(app: Any, endpoint: str) -> None:
    for root in ("", "/timepulse", ""):
        with app.test_request_context("/", base_url=f"http://localhost{root}"):
            assert page_url(endpoint) == url_for(endpoint)


def test_row_links_take_only_ids(app: Any) -> None:
    with app.test_request_context("/"):
        link = row_url("entries.edit", "entry_id")
        with pytest.raises(ValueError):
            link("1/../../admin")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RowUrl("/entries/edit")


MACRO = (
    '<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true" focusable="false">'
    '<circle cx="5" cy="5" r="5" fill="{}"/></svg>'
)


@pytest.mark.parametrize(
    "colour, fill",
    [
        ("#336699", "#336699"),
        (None, "#9aa3b2"),
        ("", "#9aa3b2"),
        ("red", "#9aa3b2"),
        ("#3366999", "#9aa3b2"),
        ('#"/><xy', "#&#34;/&gt;&lt;xy"),  # user data: escaped, never markup
    ],
)
def test_swatch_is_the_macros_dot(app: Any, colour: Any, fill: str) -> None:
    with app.test_request_context("/"):
        assert str(swatch_svg(colour)) == MACRO.format(fill)
        page = render_template_string(
            '{% from "_forms.html" import swatch %}{{ swatch(c) }}', c=colour
        )
        assert page == MACRO.format(fill)
