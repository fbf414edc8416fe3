"""Projects: create, edit, archive and restore; names unique per user; colours checked."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.pages import page


def projects(app: Any, user_id: int) -> list[Any]:
    from app.extensions import db
    from app.models import Project

    with app.app_context():
        query = sa.select(Project).where(Project.user_id == user_id).order_by(Project.id)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def create(http: Any, **fields: str) -> Any:
    return http.post("/projects/", data={"name": "Apollo", "colour": "#4f6df5"} | fields)


def test_create_a_project_with_client_colour_and_billable_default(app, client, user_id):
    response = create(client, client="NASA", colour="#FF8800", billable_default="y")

    assert response.headers["Location"] == "/projects/"
    text = page(client.get("/projects/"))
    assert "Project “Apollo” created." in text and "NASA" in text
    assert 'fill="#ff8800"' in text  # the colour swatch, no inline style
    [project] = projects(app, user_id)
    assert (project.name, project.client, project.colour) == ("Apollo", "NASA", "#ff8800")
    assert project.billable_default and not project.archived


def test_client_is_optional(app, client, user_id):
    create(client, client="   ")
    assert projects(app, user_id)[0].client is None


@pytest.mark.parametrize("name", ["Apollo", "apollo", "  APOLLO "])
def test_a_second_project_with_the_same_name_is_refused(app, client, user_id, name):
    create(client)

    response = create(client, name=name)

    assert response.status_code == 400
    assert "You already have a project called" in page(response)
    assert len(projects(app, user_id)) == 1


@pytest.mark.parametrize(("first", "second"), [("PRÁCE", "Práce"), ("Straße", "STRASSE")])
def test_names_beyond_ascii_are_compared_regardless_of_case(app, client, user_id, first, second):
    # SQLite's lower() folds ASCII letters only; the comparison must not depend on it.
    create(client, name=first)

    response = create(client, name=second)

    assert response.status_code == 400
    assert "You already have a project called" in page(response)
    assert [p.name for p in projects(app, user_id)] == [first]


def test_a_project_created_meanwhile_under_the_same_name_is_refused_not_a_crash(
    app, client, user_id
):
    # Two tabs submit "Apollo" at once: the other one's INSERT lands between
    # this one's check and its commit, and the unique constraint answers.
    from app.extensions import db
    from app.models import Project

    def insert_meanwhile(*_: Any) -> None:
        with db.engine.connect() as other:
            other.execute(sa.insert(Project).values(user_id=user_id, name="Apollo"))
            other.commit()

    sa.event.listen(db.session, "before_flush", insert_meanwhile, once=True)
    try:
        response = create(client)
    finally:
        if sa.event.contains(db.session, "before_flush", insert_meanwhile):
            sa.event.remove(db.session, "before_flush", insert_meanwhile)

    assert response.status_code == 400
    assert "You already have a project called “Apollo”" in page(response)
    assert len(projects(app, user_id)) == 1


def test_another_user_may_use_the_same_name(app, client, user_id, make_user, make_project):
    make_project(make_user("bob@example.com"), "Apollo")
    assert create(client).status_code == 302
    assert len(projects(app, user_id)) == 1


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#ggg000", ""])
def test_colour_must_be_a_hex_colour(app, client, user_id, colour):
    response = create(client, colour=colour)

    assert response.status_code == 400
    assert "Pick a colour like #4f6df5." in page(response)
    assert projects(app, user_id) == []


def test_empty_name_is_refused(app, client, user_id):
    response = create(client, name="")
    assert "Give the project a name." in page(response)
    assert projects(app, user_id) == []


def test_edit_a_project(app, client, user_id, make_project):
    project_id = make_project(user_id, "Apollo")

    form = page(client.get(f"/projects/{project_id}/edit"))
    assert 'value="Apollo"' in form and 'type="color"' in form

    response = client.post(
        f"/projects/{project_id}/edit",
        data={"name": "Artemis", "client": "ESA", "colour": "#00aa00"},
    )

    assert response.headers["Location"] == "/projects/"
    [project] = projects(app, user_id)
    assert (project.name, project.client, project.colour) == ("Artemis", "ESA", "#00aa00")
    assert not project.billable_default


def test_renaming_onto_another_project_is_refused(app, client, user_id, make_project):
    make_project(user_id, "Apollo")
    gemini = make_project(user_id, "Gemini")

    response = client.post(f"/projects/{gemini}/edit", data={"name": "APOLLO", "colour": "#000000"})

    assert response.status_code == 400
    assert [p.name for p in projects(app, user_id)] == ["Apollo", "Gemini"]


def test_archive_and_restore(app, client, user_id, make_project):
    project_id = make_project(user_id, "Apollo")

    client.post(f"/projects/{project_id}/archive")
    assert projects(app, user_id)[0].archived
    text = page(client.get("/projects/"))
    assert "Project “Apollo” archived." in text and "Restore" in text
    # Archived projects are not offered for new time.
    assert "Apollo" not in page(client.get("/entries/")).split('id="project"', 1)[1]

    client.post(f"/projects/{project_id}/archive")
    assert not projects(app, user_id)[0].archived
    assert "Project “Apollo” restored." in page(client.get("/projects/"))
