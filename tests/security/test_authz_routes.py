"""Authorization, proven wholesale: every route that takes an id, asked by
another user for someone else's object, answers 404 and changes nothing.

Routes come from the app's URL map, not from a list kept by hand: a new
route is covered the day it is registered, and a new kind of id argument
fails ``test_every_route_argument_names_a_known_object`` until
``ARG_OBJECTS`` (tests/security/support.py) knows how to make one.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tests.security import tally
from tests.security.support import (
    ARG_OBJECTS,
    KIND_TABLES,
    changed_rows,
    freeze,
    hostile_form,
    id_arguments,
    login,
    methods,
    populate,
    routes,
    snapshot,
    url_for_rule,
)

# Routes that log the caller out or in; the checks below need a session.
SESSION_ROUTES = {"auth.login", "auth.signup", "auth.logout"}


def _people(app: Any, make_user: Any) -> tuple[dict[str, int], dict[str, int]]:
    victim = make_user("victim@example.com")
    attacker = make_user("mallory@example.com")
    return populate(app, victim, "-v"), populate(app, attacker, "-a")


def _id_sets(rule: Any, victim: dict[str, int], mine: dict[str, int]) -> list[dict[str, int]]:
    """All of the victim's ids, and — for routes with several — each one of
    the victim's among the attacker's own (a foreign run under my own feed)."""
    args = id_arguments(rule)
    sets = [victim]
    if len(args) > 1:
        for name in args:
            kind = ARG_OBJECTS[name]
            sets.append({**mine, kind: victim[kind]})
    return sets


def test_every_route_argument_names_a_known_object(app):
    unknown = [
        f"{rule.endpoint} {rule.rule}: {name}"
        for rule in routes(app)
        for name in rule.arguments
        if name not in ARG_OBJECTS
    ]
    assert unknown == [], "add these to ARG_OBJECTS in tests/security/support.py"


def test_the_route_enumeration_sees_the_id_routes(app):
    # Guards the enumeration itself: if it found nothing, the test below
    # would pass without checking anything.
    endpoints = {rule.endpoint for rule in routes(app) if id_arguments(rule)}
    assert {"entries.edit", "entries.delete", "projects.edit", "projects.archive"} <= endpoints


def test_someone_elses_object_answers_404_and_nothing_changes(app, client, make_user):
    victim, mine = _people(app, make_user)
    login(client, "mallory@example.com")
    before = freeze(snapshot(app))
    wrong = []
    for rule in routes(app):
        if not id_arguments(rule):
            continue
        for ids in _id_sets(rule, victim, mine):
            url = url_for_rule(app, rule, ids)
            for method in methods(rule):
                response = client.open(url, method=method, data=hostile_form(victim))
                tally.observe(response, f"{method} {url} as another user", expected=(404,))
                if response.status_code != 404:
                    wrong.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
    lost = changed_rows(before, freeze(snapshot(app)))
    tally.lost(lost, "cross-user requests")

    assert wrong == []
    assert lost == 0
    assert client.get("/").status_code == 200  # still logged in: the 404s were real


def _victim_references(app: Any, attacker_id: int, victim: dict[str, int]) -> list[str]:
    """Rows of the attacker that point at one of the victim's objects."""
    from app.extensions import db

    victim_ids = {KIND_TABLES[kind]: object_id for kind, object_id in victim.items()}
    found = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if "user_id" not in table.c:
                continue
            for fk in table.foreign_keys:
                target = fk.column.table.name
                if target not in victim_ids or target == "users":
                    continue
                query = (
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(table.c.user_id == attacker_id, fk.parent == victim_ids[target])
                )
                if db.session.scalar(query):
                    found.append(f"{table.name}.{fk.parent.name} → {target} {victim_ids[target]}")
        db.session.remove()
    return found


def test_forms_naming_someone_elses_objects_never_reach_them(app, client, make_user):
    """POST every form with the victim's ids in every id-looking field: the
    victim's rows stay as they were and no row of mine ends up pointing at
    theirs (a time entry on their project, a rule for their feed …)."""
    from app.extensions import db
    from app.models import User

    victim, _mine = _people(app, make_user)
    with app.app_context():
        attacker_id = db.session.scalar(sa.select(User.id).where(User.email.like("mallory%")))
        db.session.remove()
    login(client, "mallory@example.com")
    victim_before = _victim_rows(app, victim)
    crashed = []
    for rule in routes(app):
        if "POST" not in methods(rule) or id_arguments(rule) or rule.endpoint in SESSION_ROUTES:
            continue
        url = url_for_rule(app, rule, victim)
        response = client.post(url, data=hostile_form(victim))
        tally.observe(response, f"POST {url} naming another user's ids", expected=(302, 400, 404))
        if response.status_code >= 500:
            crashed.append(f"POST {url}: {response.status_code}")
    references = _victim_references(app, attacker_id, victim)
    changed = changed_rows(freeze(victim_before), freeze(_victim_rows(app, victim)))
    tally.lost(len(references) + changed, "forms naming another user's objects")

    assert crashed == []
    assert references == []
    assert changed == 0


def _victim_rows(app: Any, victim: dict[str, int]) -> dict[str, list[tuple[Any, ...]]]:
    """The victim's original objects as they are now, per table (gone = empty)."""
    from app.extensions import db

    rows = {}
    with app.app_context():
        for kind, object_id in victim.items():
            table = db.metadata.tables[KIND_TABLES[kind]]
            query = sa.select(table).where(table.c.id == object_id)
            rows[table.name] = [tuple(row) for row in db.session.execute(query)]
        db.session.remove()
    return rows
