"""Account workflows: change password or e-mail, export everything, delete everything.

Each function receives the user it works on and the values the user typed;
none of them commits — the view does, so a ValidationError leaves the
database exactly as it was.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from app import timeutil
from app.auth.accounts import find_user, normalize_email
from app.auth.passwords import check_policy, hash_password, verify_password
from app.auth.sessions import end_sessions
from app.errors import ValidationError
from app.extensions import db
from app.models import Feed, Occurrence, Project, Rule, SyncRun, TimeEntry, User
from app.reports.export import neutralise

EXPORT_FORMAT = "timepulse-export/1"


class WrongPassword(ValidationError):
    """The password typed to confirm a change is not the user's (throttled)."""


def confirm_password(user: User, password: str, field: str = "password") -> None:
    """Raise WrongPassword on ``field`` unless ``password`` is the user's password."""
    if not verify_password(user.password_hash, password):
        raise WrongPassword("That is not your current password.", field)


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """Set a new password and end every session of the user.

    The view starts a new session for the browser the user is in (a copy
    of its old cookie is refused too). Errors: ValidationError on the field
    at fault (``current``, ``new`` or ``confirm``).
    """
    confirm_password(user, current, field="current")
    if new != confirm:
        raise ValidationError("The two new passwords differ; type them again.", "confirm")
    if new == current:
        raise ValidationError("That is your current password; choose a new one.", "new")
    try:
        check_policy(new, user.email)
    except ValidationError as err:
        raise ValidationError(err.message, "new") from err
    user.password_hash = hash_password(new)
    end_sessions(user)


def change_email(user: User, new_email: str, password: str) -> None:
    """Move the account to ``new_email`` (compared case-insensitively).

    Errors: ValidationError on ``password`` when it is wrong, on ``email``
    when the address is empty, unchanged or used by another account.
    """
    confirm_password(user, password)
    email = normalize_email(new_email)
    if not email or "@" not in email:
        raise ValidationError("Enter the new e-mail address.", "email")
    if email == user.email:
        raise ValidationError("That is already your e-mail address.", "email")
    if find_user(email) is not None:
        raise ValidationError("An account with that e-mail address exists already.", "email")
    user.email = email


def delete_account(user: User, password: str) -> None:
    """Delete the user and, through the foreign keys' ON DELETE CASCADE, all
    their projects, feeds (with sync runs and occurrences), time entries,
    rules and login sessions. Nobody else's rows reference them except by
    SET NULL links.

    Errors: ValidationError on ``password`` when it is wrong.
    """
    confirm_password(user, password)
    user_id = user.id
    db.session.expunge(user)
    db.session.execute(sa.delete(User).where(User.id == user_id))


# -- export -----------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(objects: list[Any], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{name: _plain(getattr(obj, name)) for name in fields} for obj in objects]


def _owned(model: Any, user_id: int) -> list[Any]:
    return list(
        db.session.scalars(sa.select(model).where(model.user_id == user_id).order_by(model.id))
    )


_PROFILE = ("email", "timezone", "week_start", "rounding_minutes", "rounding_mode", "created_at")
_PROJECT = ("id", "name", "client", "colour", "billable_default", "archived", "created_at")
_ENTRY = (
    "id", "project_id", "description", "start", "end", "billable",
    "occurrence_id", "source_snapshot", "source_change", "created_at", "updated_at",
)  # fmt: skip
_OCCURRENCE = (
    "id", "feed_id", "uid", "recurrence_id", "start", "end", "all_day", "summary",
    "location", "description", "organizer", "busy_status", "status", "private",
    "state", "removed_at", "first_seen_at",
)  # fmt: skip
_RULE = ("id", "position", "field", "operator", "pattern", "project_id")


def _feed(feed: Feed, runs: int) -> dict[str, Any]:
    # The subscription link is a bearer secret: an export travels by e-mail
    # and sits in download folders, so it carries only the masked form.
    return {
        "id": feed.id,
        "name": feed.name,
        "colour": feed.colour,
        "kind": feed.kind,
        "link": feed.url_masked,
        "state": feed.state,
        "import_from": _plain(feed.import_from),
        "detail_level": feed.detail_level,
        "event_count": feed.event_count,
        "last_success_at": _plain(feed.last_success_at),
        "created_at": _plain(feed.created_at),
        "sync_runs": runs,
    }


def _run_counts(user_id: int) -> dict[int, int]:
    query = (
        sa.select(SyncRun.feed_id, sa.func.count())
        .join(Feed, Feed.id == SyncRun.feed_id)
        .where(Feed.user_id == user_id)
        .group_by(SyncRun.feed_id)
    )
    return {feed_id: count for feed_id, count in db.session.execute(query)}


def export_data(user: User) -> dict[str, Any]:
    """Everything stored about ``user`` as plain JSON-ready data.

    Never includes the password hash or a feed's link (only its masked form).
    """
    runs = _run_counts(user.id)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": timeutil.now().isoformat(),
        "user": {name: _plain(getattr(user, name)) for name in _PROFILE},
        "projects": _rows(_owned(Project, user.id), _PROJECT),
        "time_entries": _rows(_owned(TimeEntry, user.id), _ENTRY),
        "feeds": [_feed(feed, runs.get(feed.id, 0)) for feed in _owned(Feed, user.id)],
        "occurrences": _rows(_owned(Occurrence, user.id), _OCCURRENCE),
        "rules": _rows(_owned(Rule, user.id), _RULE),
    }


CSV_HEADER = ["date", "start", "end", "minutes", "project", "client", "description", "billable"]


def _cell(text: str | None) -> str:
    # Descriptions come from calendar subjects, that is from strangers:
    # quoted like the reports' CSV so a spreadsheet never runs them.
    return neutralise(text or "")


def entries_csv(user: User) -> str:
    """The user's time entries as CSV, times in the user's zone."""
    tz = timeutil.zone(user.timezone)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for entry in _owned(TimeEntry, user.id):
        start = entry.start.astimezone(tz)
        end = entry.end.astimezone(tz) if entry.end else None
        minutes = round((entry.end - entry.start).total_seconds() / 60) if entry.end else ""
        project = entry.project
        writer.writerow([
            start.date().isoformat(),
            start.strftime("%H:%M"),
            end.strftime("%H:%M") if end else "",
            minutes,
            _cell(project.name if project else ""),
            _cell(project.client if project else ""),
            _cell(entry.description),
            "yes" if entry.billable else "no",
        ])  # fmt: skip
    return out.getvalue()
