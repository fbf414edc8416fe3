"""The main menu marks exactly the section the user is in."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

CURRENT = re.compile(r'<a href="[^"]*" aria-current="page">([^<]+)</a>')


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/", "Dashboard"),
        ("/entries/", "Timesheet"),
        ("/projects/", "Projects"),
        ("/reports/", "Reports"),
        ("/settings/time-tracking/impulses", "Calendars"),
        ("/settings/time-tracking/rules/", "Calendars"),
        ("/settings/profile", "Settings"),
        ("/settings/account/", "Account"),
    ],
)
def test_one_current_section(client: FlaskClient, user_id: int, path: str, label: str) -> None:
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200
    assert CURRENT.findall(response.get_data(as_text=True)) == [label]
