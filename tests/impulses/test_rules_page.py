"""Settings → Time Tracking → Rules: add, validate, reorder, delete — only one's own."""

from __future__ import annotations

from typing import Any

import pytest

from app.models import Rule

URL = "/settings/time-tracking/rules/"


def add(client: Any, project: int | str, pattern: str = "Standup", **form: str) -> Any:
    data = {"field": "subject", "operator": "contains", "pattern": pattern, "project": project}
    return client.post(URL, data={**data, **form})


def test_add_and_list(client: Any, user_id: int, make_project: Any, fetch: Any) -> None:
    project = make_project(user_id, "Internal")
    response = add(client, project)
    assert response.status_code == 302 and response.headers["Location"] == URL
    [rule] = fetch(Rule)
    assert (rule.field, rule.operator, rule.pattern, rule.project_id) == (
        "subject",
        "contains",
        "Standup",
        project,
    )
    page = client.get(URL).get_data(as_text=True)
    assert "subject contains &#39;Standup&#39; → <strong>Internal</strong>" in page


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(unclosed", "not a valid regular expression"),
        ("a" * 201, "under 200 characters"),
        ("(a+)+$", "Nested repeats"),
        (r"(\w+\s?)*x", "Nested repeats"),
        ("   ", "Enter the text to look for."),
    ],
)
def test_bad_patterns_are_refused_with_a_message(
    client: Any, user_id: int, make_project: Any, fetch: Any, pattern: str, message: str
) -> None:
    project = make_project(user_id)
    response = add(client, project, pattern, operator="matches")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert fetch(Rule) == []


def test_contains_takes_regex_characters_literally(
    client: Any, user_id: int, make_project: Any, fetch: Any
) -> None:
    assert add(client, make_project(user_id), "(unclosed").status_code == 302
    assert len(fetch(Rule)) == 1


def test_project_must_be_ones_own(
    client: Any, user_id: int, make_user: Any, make_project: Any, fetch: Any
) -> None:
    make_project(user_id, "Mine")
    other = make_project(make_user(email="eve@example.com"), "Eve's")
    response = add(client, other)
    assert response.status_code == 400 and "your own projects" in response.get_data(as_text=True)
    response = add(client, "")
    assert response.status_code == 400
    assert fetch(Rule) == []


def test_unknown_field_is_refused(client: Any, user_id: int, make_project: Any, fetch: Any) -> None:
    assert add(client, make_project(user_id), field="description").status_code == 400
    assert fetch(Rule) == []


def test_move_and_delete(
    client: Any, user_id: int, make_project: Any, make_rule: Any, fetch: Any
) -> None:
    project = make_project(user_id)
    first = make_rule(user_id, "subject", "contains", "one", project)
    second = make_rule(user_id, "subject", "contains", "two", project)
    third = make_rule(user_id, "subject", "contains", "three", project)

    def order() -> list[int]:
        return [r.id for r in sorted(fetch(Rule), key=lambda r: r.position)]

    response = client.post(f"{URL}{third}/move", data={"direction": "up"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#rule-{third}")
    assert order() == [first, third, second]
    client.post(f"{URL}{first}/move", data={"direction": "down"})
    assert order() == [third, first, second]
    client.post(f"{URL}{third}/move", data={"direction": "up"})  # already on top
    assert order() == [third, first, second]
    client.post(f"{URL}{first}/delete")
    assert order() == [third, second]


def test_another_users_rule_is_not_found(
    client: Any, user_id: int, make_user: Any, make_project: Any, make_rule: Any, fetch: Any
) -> None:
    other = make_user(email="eve@example.com")
    rule = make_rule(other, "subject", "contains", "x", make_project(other))
    assert client.post(f"{URL}{rule}/delete").status_code == 404
    assert client.post(f"{URL}{rule}/move", data={"direction": "up"}).status_code == 404
    assert len(fetch(Rule)) == 1
    assert "&#39;x&#39;" not in client.get(URL).get_data(as_text=True)


def test_without_projects_the_page_says_to_create_one(client: Any, user_id: int) -> None:
    page = client.get(URL).get_data(as_text=True)
    assert "create a project" in page and "No rules yet" in page
