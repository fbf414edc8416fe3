"""Actions on impulses. Plain forms and redirects; JSON for the panel's script.

Every action answers a redirect back to the dashboard (``next``) for a
browser without JavaScript, or — when the request asks for
``application/json`` — the re-rendered row and a message to announce.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import timeutil
from app.access import get_owned
from app.auth.views import safe_next
from app.entries.forms import EntryForm
from app.errors import ValidationError
from app.extensions import db
from app.impulses import bp, changes, tracking
from app.impulses.panel import Filters, build_panel, load_impulse, parse_day
from app.impulses.suggest import suggest
from app.models import Occurrence, TimeEntry
from app.projects.service import user_projects

Reply = Response | str | tuple[Any, int]

# The rows' action links, for the row templates (dashboard and re-rendered rows).


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == (
        "application/json"
    )


def _day() -> date:
    """The panel's day to return to. The Edit & track form sends it as
    ``panel_day`` because its own ``day`` field is the entry's date."""
    tz = timeutil.zone(current_user.timezone)
    raw = request.values.get("panel_day") or request.values.get("day")
    return parse_day(raw, timeutil.today(tz))


def _back() -> str:
    return (
        safe_next(request.values.get("next"))
        if request.values.get("next")
        else url_for("dashboard.index", day=_day().isoformat())
    )


def _row(occ: Occurrence, message: str, status: int = 200, **extra: Any) -> tuple[Response, int]:
    impulse = load_impulse(current_user, occ)
    html = render_template(
        "dashboard/_impulse_rows.html", impulses=[impulse], back=_back(), day=_day()
    )
    body = {"ok": status < 400, "message": message, "id": occ.id, "state": occ.state}
    return jsonify(body | {"row": html, "entry_id": impulse.entry_id} | extra), status


def _answer(occ: Occurrence, message: str, category: str = "ok", status: int = 200) -> Reply:
    if _wants_json():
        return _row(occ, message, status)
    flash(message, category)
    return redirect(_back())


def _tracked_message(entry: TimeEntry) -> str:
    tz = timeutil.zone(current_user.timezone)
    span = (
        f"{entry.start.astimezone(tz):%H:%M}–{entry.end.astimezone(tz):%H:%M}" if entry.end else ""
    )
    project = f" on {entry.project.name}" if entry.project else ""
    return f"Tracked “{entry.description or 'meeting'}” {span}{project}."


@bp.post("/<int:occurrence_id>/track")
@login_required
def track(occurrence_id: int) -> Reply:
    """One click (no form fields) or the submitted Edit & track form."""
    occ = get_owned(Occurrence, occurrence_id)
    if "start" in request.form:
        return _track_from_form(occ)
    again = request.form.get("confirm") == "1"
    try:
        entry = tracking.track_suggested(
            current_user,
            occ,
            suggest(current_user.id, occ, _zone()),
            day=_day(),
            confirm_again=again,
        )
        db.session.commit()
    except tracking.AlreadyTracked as err:
        db.session.rollback()
        return _needs_confirmation(occ, err)
    except ValidationError as err:
        db.session.rollback()
        return _answer(occ, err.message, "error", 400)
    return _answer(occ, _tracked_message(entry))


def _zone() -> Any:
    return timeutil.zone(current_user.timezone)


def _needs_confirmation(occ: Occurrence, err: tracking.AlreadyTracked) -> Reply:
    confirm_url = url_for("impulses.confirm", occurrence_id=occ.id, next=_back(), day=_day())
    if _wants_json():
        return _row(occ, err.message, 409, confirm=True, confirm_url=confirm_url)
    return redirect(confirm_url)


def _entry_form() -> EntryForm:
    form = EntryForm()
    form.set_projects(user_projects(current_user.id))
    return form


def _render_track_form(occ: Occurrence, form: EntryForm, status: int = 200) -> tuple[str, int]:
    impulse = load_impulse(current_user, occ)
    return render_template(
        "impulses/track.html",
        impulse=impulse,
        form=form,
        back=_back(),
        day=_day(),
        rounding=(current_user.rounding_minutes, current_user.rounding_mode),
    ), status


@bp.get("/<int:occurrence_id>/track")
@login_required
def track_form(occurrence_id: int) -> Reply:
    """Edit & track: the entry form prefilled with what one click would track."""
    occ = get_owned(Occurrence, occurrence_id)
    form = _entry_form()
    data = tracking.default_input(current_user, occ, suggest(current_user.id, occ, _zone()), _day())
    tz = _zone()
    start, end = data.start.astimezone(tz), data.end.astimezone(tz) if data.end else None
    form.day.data, form.start.data = start.date(), start.strftime("%H:%M")
    if end is not None:
        form.end.data = end.strftime("%H:%M")
        form.end_day.data = end.date() if end.date() != start.date() else None
    form.description.data = data.description
    form.project.data = str(data.project_id or "")
    form.billable.data = data.billable
    return _render_track_form(occ, form)


def _track_from_form(occ: Occurrence) -> Reply:
    form = _entry_form()
    if not form.validate_on_submit():
        return _render_track_form(occ, form, 400)
    try:
        data = form.to_input(_zone())
        entry = tracking.track_impulse(
            current_user,
            occ,
            project_id=data.project_id,
            start=data.start,
            end=data.end or data.start,
            description=data.description,
            billable=data.billable,
            confirm_again=request.form.get("confirm") in ("1", "y", "on"),
        )
        db.session.commit()
    except tracking.AlreadyTracked:
        db.session.rollback()
        form.start.errors.append(
            "This meeting is already tracked. Tick “Track it again” to make a second entry."
        )
        return _render_track_form(occ, form, 409)
    except ValidationError as err:
        db.session.rollback()
        getattr(form, err.field or "start", form.start).errors.append(err.message)
        return _render_track_form(occ, form, 400)
    flash(_tracked_message(entry), "ok")
    return redirect(_back())


@bp.get("/<int:occurrence_id>/confirm")
@login_required
def confirm(occurrence_id: int) -> Reply:
    """The no-JavaScript "track it again?" step."""
    occ = get_owned(Occurrence, occurrence_id)
    if occ.state != "tracked":
        return redirect(_back())
    impulse = load_impulse(current_user, occ)
    return render_template("impulses/confirm.html", impulse=impulse, back=_back(), day=_day())


@bp.post("/<int:occurrence_id>/dismiss")
@login_required
def dismiss(occurrence_id: int) -> Reply:
    occ = get_owned(Occurrence, occurrence_id)
    try:
        tracking.dismiss(occ)
        db.session.commit()
    except ValidationError as err:
        db.session.rollback()
        return _answer(occ, err.message, "error", 400)
    where = "" if _wants_json() else " (under “Show tracked & dismissed”)"
    return _answer(occ, f"Dismissed “{occ.summary or 'meeting'}”. Undo{where} brings it back.")


@bp.post("/<int:occurrence_id>/undo")
@login_required
def undo(occurrence_id: int) -> Reply:
    occ = get_owned(Occurrence, occurrence_id)
    tracking.undo_dismiss(occ)
    db.session.commit()
    return _answer(occ, f"“{occ.summary or 'meeting'}” is back.")


@bp.post("/track-all")
@login_required
def track_all() -> Reply:
    day = _day()
    count = tracking.track_all(
        current_user,
        day,
        include_free=bool(request.form.get("include_free")),
        include_all_day=bool(request.form.get("include_all_day")),
        include_cancelled=bool(request.form.get("include_cancelled")),
    )
    db.session.commit()
    message = (
        f"Tracked {count} meeting{'s' if count != 1 else ''} of {day:%a %-d %b}."
        if count
        else "Nothing left to track for that day."
    )
    if not _wants_json():
        flash(message, "ok" if count else "info")
        return redirect(_back())
    panel = build_panel(current_user, day, Filters.from_args(request.form))
    html = render_template("dashboard/_impulse_list.html", panel=panel, back=_back())
    return jsonify(ok=True, message=message, count=count, list=html)


@bp.get("/changes/<int:entry_id>")
@login_required
def change(entry_id: int) -> Reply:
    """The entry next to the calendar's current version, with the choices."""
    entry = get_owned(TimeEntry, entry_id)
    if entry.source_change is None:
        flash("The calendar change of this entry is already resolved.", "info")
        return redirect(_back())
    return render_template(
        "impulses/change.html",
        change=changes.describe_change(entry, current_user),
        back=_back(),
    )


@bp.post("/changes/<int:entry_id>")
@login_required
def resolve(entry_id: int) -> Reply:
    entry = get_owned(TimeEntry, entry_id)
    try:
        message = changes.resolve_change(entry, current_user, request.form.get("choice", ""))
        db.session.commit()
    except ValidationError as err:
        db.session.rollback()
        if _wants_json():
            return jsonify(ok=False, message=err.message), 400
        flash(err.message, "error")
        return redirect(_back())
    if _wants_json():
        return jsonify(ok=True, message=message, remove=True, entry_id=entry_id)
    flash(message, "ok")
    return redirect(_back())
