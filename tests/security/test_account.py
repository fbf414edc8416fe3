"""Account hygiene: change password, change e-mail, export, delete.

Every change asks for the password, and a refused one changes nothing; the
export holds everything of mine and nothing of anyone else's, with feed
links masked; deleting the account removes exactly my rows in every table.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.security import tally
from tests.security.support import (
    FAKE_CIPHERTEXT,
    MASKED_URL,
    SECRET_TOKEN,
    SECRET_URL,
    freeze,
    populate,
    rows_per_user,
    snapshot,
)

NEW_PASSWORD = "a much longer passphrase 2026"


def _user(app: Any, user_id: int) -> Any:
    from app.extensions import db
    from app.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _change_password(client: Any, current: str, new: str, confirm: str | None = None) -> Any:
    data = {"pw-current": current, "pw-new": new, "pw-confirm": new if confirm is None else confirm}
    return client.post("/settings/account/password", data=data)


def _change_email(client: Any, email: str, password: str = PASSWORD) -> Any:
    return client.post("/settings/account/email", data={"em-email": email, "em-password": password})


def test_the_account_page_has_its_four_sections(client, user_id):
    page = client.get("/settings/account/").get_data(as_text=True)
    for heading in (
        "Change password",
        "Change e-mail address",
        "Export my data",
        "Delete my account",
    ):
        assert heading in page
    assert 'href="/settings/account/"' in client.get("/").get_data(as_text=True)  # in the menu


# -- password ---------------------------------------------------------------


def test_changing_the_password_needs_the_current_one(app, client, user_id, auth):
    response = _change_password(client, "not my password", NEW_PASSWORD)

    assert response.status_code == 400
    assert "not your current password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 200  # still logged in
    auth.logout()
    assert auth.login(password=NEW_PASSWORD).status_code == 200  # refused: unchanged
    assert auth.login(password=PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short1", None, "at least 10 characters"),
        ("ada@example.com", None, "e-mail address"),
        ("ADA@EXAMPLE.COM", None, "e-mail address"),
        ("password123", None, "most common"),
        ("aaaaaaaaaaaa", None, "most common"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "differ"),
        (PASSWORD, None, "current password"),
    ],
)
def test_a_weak_or_mistyped_new_password_is_refused_with_a_reason(
    app, client, user_id, new, confirm, message
):
    before = _user(app, user_id).password_hash

    response = _change_password(client, PASSWORD, new, confirm)

    tally.observe(response, "weak new password", expected=(400,))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _user(app, user_id).password_hash == before


def test_changing_the_password(app, client, user_id, auth):
    response = _change_password(client, PASSWORD, NEW_PASSWORD)

    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this browser stays logged in
    auth.logout()
    assert auth.login(password=PASSWORD).status_code == 200
    assert auth.login(password=NEW_PASSWORD).status_code == 302


# -- e-mail -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("new@example.com", "not my password", "not your current password"),
        ("BOB@Example.com", PASSWORD, "exists already"),
        ("not an address", PASSWORD, "does not look like an e-mail address"),
        ("", PASSWORD, "Enter the new e-mail address"),
        ("ADA@example.com", PASSWORD, "already your e-mail address"),
    ],
)
def test_a_refused_email_change_changes_nothing(
    app, client, make_user, user_id, email, password, message
):
    make_user("bob@example.com")

    response = _change_email(client, email, password)

    tally.observe(response, "refused e-mail change", expected=(400,))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _user(app, user_id).email == "ada@example.com"


def test_changing_the_email(app, client, user_id, auth):
    response = _change_email(client, "Ada.Lovelace@Example.com")

    assert response.status_code == 302
    assert _user(app, user_id).email == "ada.lovelace@example.com"
    auth.logout()
    assert auth.login("ADA.LOVELACE@example.com").status_code == 302


# -- export -----------------------------------------------------------------


def test_the_json_export_holds_everything_of_mine_and_no_secret(app, client, make_user, user_id):
    mine = populate(app, user_id, "-mine")
    populate(app, make_user("bob@example.com"), "-bobs")

    response = client.get("/settings/account/export.json")

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data(as_text=True)
    data = json.loads(text)
    assert data["user"]["email"] == "ada@example.com"
    assert [p["id"] for p in data["projects"]] == [mine["project"]]
    assert [e["id"] for e in data["time_entries"]] == [mine["entry"]]
    assert [o["id"] for o in data["occurrences"]] == [mine["occurrence"]]
    assert [r["id"] for r in data["rules"]] == [mine["rule"]]
    [feed] = data["feeds"]
    assert feed["link"] == MASKED_URL
    assert feed["sync_runs"] == 1
    assert feed["state"] == "active"
    # The bearer secret, its ciphertext and the password hash never leave.
    for secret in (SECRET_URL, SECRET_TOKEN, FAKE_CIPHERTEXT.decode(), "$argon2", "-bobs"):
        assert secret not in text
    assert "password" not in json.dumps(data["user"])


def test_the_csv_export_lists_my_entries_and_defuses_formulas(app, client, make_user, user_id):
    from app.extensions import db
    from app.models import TimeEntry

    populate(app, user_id, "-mine")
    populate(app, make_user("bob@example.com"), "-bobs")
    with app.app_context():
        entry = db.session.scalar(sa.select(TimeEntry).where(TimeEntry.user_id == user_id))
        entry.description = '=HYPERLINK("https://evil.example","click")'
        db.session.commit()

    response = client.get("/settings/account/export.csv")

    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["date", "start", "end", "minutes"]
    [row] = rows[1:]
    assert row[:5] == ["2026-03-02", "10:00", "11:00", "60", "Apollo-mine"]  # Prague time
    assert row[6] == "'" + '=HYPERLINK("https://evil.example","click")'


# -- delete -----------------------------------------------------------------


def test_deleting_needs_the_password_and_a_wrong_one_changes_nothing(app, client, user_id):
    populate(app, user_id)
    before = snapshot(app)

    response = client.post("/settings/account/delete", data={"password": "not my password"})

    tally.observe(response, "account deletion with a wrong password", expected=(400,))
    assert response.status_code == 400
    assert snapshot(app) == before
    assert client.get("/settings/account/delete").status_code == 200  # a page, no deletion
    assert snapshot(app) == before


def test_deleting_removes_exactly_my_rows_in_every_table(app, client, make_user, user_id, auth):
    from app.extensions import db

    populate(app, user_id, "-mine")
    populate(app, user_id, "-more")
    bob = make_user("bob@example.com")
    populate(app, bob, "-bobs")
    mine_before = rows_per_user(app, user_id)
    bobs_before = rows_per_user(app, bob)
    everything_before = freeze(snapshot(app))

    response = client.post("/settings/account/delete", data={"password": PASSWORD})

    assert response.status_code == 302
    assert set(mine_before.values()) != {0}
    with app.app_context():
        tables = {t.name for t in db.metadata.sorted_tables} - {"alembic_version"}
    assert tables <= set(mine_before)  # the count covers every table
    assert rows_per_user(app, user_id) == dict.fromkeys(mine_before, 0)
    assert rows_per_user(app, bob) == bobs_before
    after = freeze(snapshot(app))
    removed = sum(len(set(everything_before[t]) - set(after[t])) for t in after)
    assert removed == sum(mine_before.values())  # nothing beyond my own rows went
    assert client.get("/").status_code == 302  # logged out
    assert auth.login().status_code == 200  # and the account is gone
