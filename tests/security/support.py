"""Helpers for the security suite: a full set of objects per user, table
snapshots, and a log-in that works with CSRF protection on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tests.conftest import PASSWORD

# What a published Outlook link looks like; the token part is the secret.
SECRET_URL = (
    "https://outlook.office365.com/owa/calendar/4c1d@example.com/s3cr3tT0kenABCD/calendar.ics"
)
SECRET_TOKEN = "s3cr3tT0kenABCD"
MASKED_URL = "outlook.office365.com/…abcd.ics"
# Stands in for the encrypted link (the cipher is not this suite's concern):
# whatever the bytes are, they must never come out of an export or a page.
FAKE_CIPHERTEXT = b"gAAAAAB-fake-ciphertext-" + SECRET_TOKEN.encode()


def populate(app: Any, user_id: int, tag: str = "") -> dict[str, int]:
    """Give ``user_id`` one of every kind of object; returns their ids by kind.

    Kinds: project, feed, occurrence, entry, run, rule.
    """
    from app.extensions import db
    from app.models import Feed, Occurrence, Project, Rule, SyncRun, TimeEntry

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with app.app_context():
        project = Project(user_id=user_id, name=f"Apollo{tag}", client="NASA")
        feed = Feed(
            user_id=user_id,
            name=f"Work{tag}",
            url_encrypted=FAKE_CIPHERTEXT,
            url_fingerprint=f"fp-{user_id}-{tag}",
            url_masked=MASKED_URL,
        )
        db.session.add_all([project, feed])
        db.session.flush()
        occurrence = Occurrence(
            feed_id=feed.id,
            user_id=user_id,
            uid=f"uid-{user_id}{tag}@example.com",
            start=start,
            end=start + timedelta(hours=1),
            summary=f"Standup{tag}",
            content_hash="0" * 64,
        )
        db.session.add(occurrence)
        db.session.flush()
        entry = TimeEntry(
            user_id=user_id,
            project_id=project.id,
            occurrence_id=occurrence.id,
            description=f"Standup{tag}",
            start=start,
            end=start + timedelta(hours=1),
        )
        run = SyncRun(feed_id=feed.id, outcome="ok", http_status=200, new=1)
        rule = Rule(
            user_id=user_id, field="subject", operator="contains", pattern="Standup",
            project_id=project.id,
        )  # fmt: skip
        db.session.add_all([entry, run, rule])
        db.session.commit()
        return {
            "project": project.id,
            "feed": feed.id,
            "occurrence": occurrence.id,
            "entry": entry.id,
            "run": run.id,
            "rule": rule.id,
        }


def snapshot(app: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    from app.extensions import db

    with app.app_context():
        tables = {}
        for table in db.metadata.sorted_tables:
            query = sa.select(table).order_by(*table.primary_key.columns)
            tables[table.name] = [tuple(row) for row in db.session.execute(query)]
        db.session.remove()
        return tables


def changed_rows(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> int:
    """How many rows differ between two snapshots (changed, gone or new)."""
    count = 0
    for name in before.keys() | after.keys():
        old, new = set(before.get(name, [])), set(after.get(name, []))
        count += len(old ^ new)
    return count


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, dict | list) else value


def freeze(snap: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The snapshot with JSON columns made hashable, for ``changed_rows``."""
    return {t: [tuple(_hashable(v) for v in row) for row in rows] for t, rows in snap.items()}


def rows_per_user(app: Any, user_id: int) -> dict[str, int]:
    """How many rows of each table belong to ``user_id`` (directly or via its feeds)."""
    from app.extensions import db
    from app.models import Feed, SyncRun, User

    with app.app_context():
        counts = {"users": db.session.scalar(sa.select(sa.func.count()).where(User.id == user_id))}
        for table in db.metadata.sorted_tables:
            if "user_id" in table.c:
                query = sa.select(sa.func.count()).select_from(table)
                counts[table.name] = db.session.scalar(query.where(table.c.user_id == user_id))
        runs = sa.select(sa.func.count()).select_from(SyncRun).join(Feed)
        counts["sync_runs"] = db.session.scalar(runs.where(Feed.user_id == user_id))
        db.session.remove()
        return counts


_TOKEN = re.compile(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(client: Any, path: str) -> str:
    """The CSRF token of the first form on the page at ``path`` ("" when CSRF is off)."""
    page = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(page)
    return match.group(1) if match else ""


def login(client: Any, email: str, password: str = PASSWORD) -> None:
    """Log in through the real form, with or without CSRF protection on."""
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


# -- routes -----------------------------------------------------------------

# Every id a route can take, by argument name → the kind of object it names
# (a key of ``populate``'s result). A new route with an argument missing
# here fails tests/security/test_authz_routes.py until it is added, so no
# route escapes the cross-user check.
ARG_OBJECTS = {
    "project_id": "project",
    "entry_id": "entry",
    "feed_id": "feed",
    "occurrence_id": "occurrence",
    "impulse_id": "occurrence",
    "rule_id": "rule",
    "run_id": "run",
    "sync_run_id": "run",
}
# Tables of the objects of each kind.
KIND_TABLES = {
    "project": "projects",
    "entry": "time_entries",
    "feed": "feeds",
    "occurrence": "occurrences",
    "rule": "rules",
    "run": "sync_runs",
}
SKIP_METHODS = {"HEAD", "OPTIONS"}


def object_for(argument: str) -> str:
    """The kind of object a route argument names; fails for an unknown one."""
    assert argument in ARG_OBJECTS, (
        f"route argument {argument!r} has no object factory: add it to ARG_OBJECTS "
        "in tests/security/support.py so the cross-user test covers the route"
    )
    return ARG_OBJECTS[argument]


def routes(app: Any) -> list[Any]:
    """Every rule of the app's URL map except static files, in a stable order."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def id_arguments(rule: Any) -> list[str]:
    """The arguments of ``rule`` that name an object (int converter or *_id)."""
    from werkzeug.routing import IntegerConverter

    return sorted(
        name
        for name, converter in rule._converters.items()
        if isinstance(converter, IntegerConverter) or name.endswith("_id")
    )


def methods(rule: Any) -> list[str]:
    return sorted(set(rule.methods or ()) - SKIP_METHODS)


def url_for_rule(app: Any, rule: Any, ids: dict[str, int]) -> str:
    """The URL of ``rule`` with each id argument taken from ``ids`` (by kind)."""
    with app.test_request_context():
        args = {name: ids[object_for(name)] for name in rule.arguments}
        return app.url_for(rule.endpoint, **args)


def hostile_form(ids: dict[str, int]) -> dict[str, str]:
    """A plausible form whose every id-looking field names the objects in ``ids``.

    Plausible values in the ordinary fields keep a view from refusing the
    form for being empty before it ever looks at the ids.
    """
    form = {
        "name": "Mallory's", "description": "mallory", "client": "", "colour": "#123456",
        "day": "2026-03-02", "date": "2026-03-02", "start": "09:00", "end": "10:00",
        "duration": "1h", "billable": "y", "field": "subject", "operator": "contains",
        "pattern": "x", "state": "dismissed",
    }  # fmt: skip
    for argument, kind in ARG_OBJECTS.items():
        form[argument] = str(ids[kind])
        form[argument.removesuffix("_id")] = str(ids[kind])
    return form
