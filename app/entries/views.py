"""Timesheet and entry pages: week view, add, edit, duplicate, delete, timer."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import timeutil
from app.access import get_owned
from app.auth.views import safe_next
from app.entries import bp
from app.entries.forms import EntryForm, TimerForm
from app.entries.service import (
    ListedEntry,
    duplicate_entry,
    entry_days,
    listed_between,
    save_entry,
    start_timer,
    stop_timer,
    totals_by_day,
)
from app.errors import ValidationError
from app.extensions import db
from app.models import TimeEntry
from app.projects.service import user_projects


def _week_of(raw: str | None) -> date:
    tz = timeutil.zone(current_user.timezone)
    try:
        day = date.fromisoformat(raw) if raw else timeutil.today(tz)
    except ValueError:
        day = timeutil.today(tz)
    if not date(1900, 1, 1) <= day <= date(9000, 12, 31):
        day = timeutil.today(tz)  # the pager must not step past date.min / date.max
    return timeutil.week_start(day, current_user.week_start)


def _entry_form(entry: TimeEntry | None = None) -> EntryForm:
    form = EntryForm()
    form.set_projects(user_projects(current_user.id), entry.project if entry else None)
    if entry is not None and request.method == "GET":
        form.fill(entry, timeutil.zone(current_user.timezone))
    return form


def _prefill_new(form: EntryForm, days: list[date], tz: ZoneInfo) -> None:
    """Today (or the week's first day) and the current time, as a person would."""
    today = timeutil.today(tz)
    form.day.data = today if today in days else days[0]
    form.start.data = timeutil.now().astimezone(tz).strftime("%H:%M")


def _apply(form: EntryForm, entry: TimeEntry) -> bool:
    """Validate and save; on failure the form carries the message and nothing changed."""
    if not form.validate_on_submit():
        return False
    running = entry.id is not None and entry.end is None
    try:
        save_entry(entry, form.to_input(timeutil.zone(current_user.timezone), running))
        db.session.commit()
    except ValidationError as err:
        db.session.rollback()
        getattr(form, err.field or "start", form.start).errors.append(err.message)
        return False
    return True


@bp.get("/")
@login_required
def week() -> str:
    tz = timeutil.zone(current_user.timezone)
    first = _week_of(request.args.get("week"))
    days = timeutil.week_days(first)
    start, end = (
        timeutil.local_midnight(days[0], tz),
        timeutil.local_midnight(days[-1] + timedelta(days=1), tz),
    )
    entries = listed_between(current_user.id, start, end)
    by_day: dict[date, list[ListedEntry]] = {d: [] for d in days}
    for entry in entries:
        for day in entry_days(entry, tz):
            if day in by_day:
                by_day[day].append(entry)
    totals = totals_by_day(entries, tz)
    form = _entry_form()
    _prefill_new(form, days, tz)
    return render_template(
        "entries/week.html",
        days=days,
        today=timeutil.today(tz),
        by_day=by_day,
        totals=totals,
        week_total=sum((totals.get(d, timedelta()) for d in days), timedelta()),
        prev_week=first - timedelta(days=7),
        next_week=first + timedelta(days=7),
        this_week=_week_of(None),
        form=form,
    )


@bp.post("/")
@login_required
def create() -> str | Response:
    form = _entry_form()
    if _apply(form, TimeEntry(user_id=current_user.id)):
        flash("Entry added.", "ok")
        return redirect(
            safe_next(
                request.args.get("next") or url_for("entries.week", week=form.day.data.isoformat())
            )
        )
    return render_template("entries/edit.html", form=form, entry=None), 400


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@login_required
def edit(entry_id: int) -> str | Response | tuple[str, int]:
    entry = get_owned(TimeEntry, entry_id)
    form = _entry_form(entry)
    if request.method == "POST":
        if _apply(form, entry):
            flash("Entry saved.", "ok")
            return redirect(url_for("entries.week", week=form.day.data.isoformat()))
        return render_template("entries/edit.html", form=form, entry=entry), 400
    return render_template("entries/edit.html", form=form, entry=entry)


@bp.post("/<int:entry_id>/delete")
@login_required
def delete(entry_id: int) -> Response:
    entry = get_owned(TimeEntry, entry_id)
    week = entry.start.astimezone(timeutil.zone(current_user.timezone)).date()
    db.session.delete(entry)
    db.session.commit()
    flash("Entry deleted.", "ok")
    return redirect(url_for("entries.week", week=week.isoformat()))


@bp.post("/<int:entry_id>/duplicate")
@login_required
def duplicate(entry_id: int) -> Response:
    entry = get_owned(TimeEntry, entry_id)
    try:
        copy = duplicate_entry(entry)
        db.session.commit()
    except ValidationError as err:
        flash(err.message, "error")
        return redirect(url_for("entries.week"))
    flash("Entry duplicated.", "ok")
    week = copy.start.astimezone(timeutil.zone(current_user.timezone)).date()
    return redirect(url_for("entries.week", week=week.isoformat()))


@bp.post("/timer/start")
@login_required
def timer_start() -> Response:
    form = TimerForm()
    form.set_projects(user_projects(current_user.id))
    try:
        if not form.validate_on_submit():
            raise ValidationError("The timer form was incomplete; try again.")
        start_timer(current_user, form.description.data or "", form.project.data)
        db.session.commit()
        flash("Timer started.", "ok")
    except ValidationError as err:
        db.session.rollback()
        flash(err.message, "error")
    except sa.exc.IntegrityError:
        # Two starts at once: the database's one-running-timer index caught it.
        db.session.rollback()
        flash("A timer is already running. Stop it before starting another.", "error")
    return redirect(url_for("dashboard.index"))


@bp.post("/timer/stop")
@login_required
def timer_stop() -> Response:
    entry = stop_timer(current_user)
    db.session.commit()
    flash("Timer stopped." if entry else "No timer was running.", "ok" if entry else "info")
    return redirect(url_for("dashboard.index"))
