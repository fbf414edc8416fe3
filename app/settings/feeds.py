"""Settings → Time Tracking → Impulses: the user's calendar feeds.

Views stay short: load-or-404, validate, call ``app.refresh.feeds``,
commit, flash, redirect. A link is checked before it is saved (two steps
of one form: "Check link", then "Save feed"); between the steps the link
travels back in a hidden field of the form, never in the session cookie.
After saving, the link is shown masked only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import timeutil
from app.access import get_owned
from app.errors import FeedError, ValidationError
from app.extensions import db
from app.feeds.catalogue import for_feed_error, lookup
from app.feeds.links import FeedLinkError, normalize_feed_url
from app.models import Feed, Occurrence, SyncRun, utcnow
from app.refresh import feeds as domain
from app.refresh.dispatch import dispatch_refresh
from app.refresh.policy import fetch_policy
from app.settings import bp
from app.settings.feed_forms import FeedEditForm, FeedForm

BASE = "/time-tracking/impulses"
HISTORY = 50
IN_FLIGHT = ("queued", "fetching", "parsing", "saving")
LEVEL_WORDS = {
    "availability_only": "Availability only (Busy / Free, no subjects)",
    "limited": "Limited details (subjects and locations)",
    "full": "Full details (subjects, locations and descriptions)",
    "unknown": "Not known yet",
}

# Said after "Saved …" when an edit has a consequence the user should know of.
EDITED_NOTES = {
    "next_upload": " The new “import from” date applies to the next upload of the file."
}

Page = str | Response | tuple[str, int]


@bp.route(BASE, methods=["GET", "POST"])
@login_required
def impulses() -> Page:
    form = FeedForm()
    if request.method == "GET":
        return _list_page(form)
    action = request.form.get("action", "check")
    if not form.validate_on_submit():
        return _list_page(form, status=400)
    try:
        if action == "save":
            domain.clean_name(form.name.data)
        check = _check(form.url.data or "", form)
        if action == "save":
            return _save(form, check)
    except FeedLinkError as err:
        return _list_page(form, error=err, suggestion=err.suggestion, status=400)
    except FeedError as err:
        return _list_page(form, error=err, status=400)
    except ValidationError as err:
        _field_error(form, err)
        return _list_page(form, status=400)
    return _list_page(form, check=check)


def _check(raw: str, form: FeedForm, *, editing: Feed | None = None) -> domain.CheckResult:
    """Link rules, the per-user limit, duplicates, then one fetch of the link."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if editing is None:
        domain.check_feed_limit(db.session, app, current_user.id)
    url = normalize_feed_url(raw)
    domain.check_not_duplicate(
        db.session, app, current_user.id, url, except_feed=editing.id if editing else None
    )
    return domain.check_link(
        url,
        policy=fetch_policy(app),
        tz=timeutil.zone(current_user.timezone),
        now=utcnow(),
        import_from=form.import_from.data,
    )


def _save(form: FeedForm, check: domain.CheckResult) -> Response:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    feed = domain.add_feed(
        db.session,
        app,
        current_user.id,
        check.url,
        name=form.name.data or "",
        colour=form.colour.data,
        import_from=form.import_from.data,
        now=utcnow(),
    )
    db.session.commit()
    dispatch_refresh(app, feed.id)
    flash(f"Saved “{feed.name}”. Timepulse is importing its events now.", "ok")
    return redirect(url_for("settings.feed", feed_id=feed.id))


def _list_page(form: FeedForm, status: int = 200, **context: Any) -> Page:
    feeds = db.session.scalars(
        sa.select(Feed).where(Feed.user_id == current_user.id).order_by(Feed.name, Feed.id)
    ).all()
    error = context.get("error")
    page = render_template(
        "settings/impulses.html",
        feeds=feeds,
        form=form,
        entry=for_feed_error(error) if error is not None else None,
        limit=current_app.config.get("TIMEPULSE_MAX_FEEDS", 20),
        relative=_relative,
        in_flight=IN_FLIGHT,
        level_words=LEVEL_WORDS,
        lookup=lookup,
        **context,
    )
    return (page, status) if status != 200 else page


def _field_error(form: FeedForm, err: ValidationError) -> None:
    field = getattr(form, err.field or "url", form.url)
    field.errors = [*field.errors, err.message]  # type: ignore[has-type]


# --- one feed ---------------------------------------------------------------------


@bp.get(f"{BASE}/<int:feed_id>")
@login_required
def feed(feed_id: int) -> Page:
    item = get_owned(Feed, feed_id)
    form = FeedEditForm(obj=item, url="")
    return _feed_page(item, form)


def _feed_page(item: Feed, form: FeedEditForm, status: int = 200, **context: Any) -> Page:
    runs = db.session.scalars(
        sa.select(SyncRun)
        .where(SyncRun.feed_id == item.id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(HISTORY)
    ).all()
    error = context.pop("error", None)
    page = render_template(
        "settings/feed.html",
        feed=item,
        form=form,
        runs=runs,
        busy_mix=_busy_mix(item.id),
        active_count=sum(n for _, n in _busy_mix(item.id)),
        lookup=lookup,
        kind_entry=_kind_entry,
        relative=_relative,
        in_flight=IN_FLIGHT,
        level_words=LEVEL_WORDS,
        entry=for_feed_error(error) if error is not None else None,
        error=error,
        **context,
    )
    return (page, status) if status != 200 else page


def _busy_mix(feed_id: int) -> list[tuple[str, int]]:
    rows = db.session.execute(
        sa.select(Occurrence.busy_status, sa.func.count(Occurrence.id))
        .where(Occurrence.feed_id == feed_id, Occurrence.removed_at.is_(None))
        .group_by(Occurrence.busy_status)
    ).all()
    return sorted(((status or "not given", count) for status, count in rows), key=lambda r: -r[1])


@bp.post(f"{BASE}/<int:feed_id>/edit")
@login_required
def feed_edit(feed_id: int) -> Page:
    item = get_owned(Feed, feed_id)
    form = FeedEditForm()
    if not form.validate_on_submit():
        return _feed_page(item, form, status=400)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        # A file has no link; its page shows no link field to paste into.
        pasted = (form.url.data or "").strip() if item.kind == "url" else ""
        new_url = _check(pasted, form, editing=item).url if pasted else None
        edited = domain.update_feed(
            db.session,
            app,
            item,
            name=form.name.data or "",
            colour=form.colour.data,
            import_from=form.import_from.data,
            new_url=new_url,
            now=utcnow(),
        )
    except FeedError as err:
        db.session.rollback()
        return _feed_page(get_owned(Feed, feed_id), form, status=400, error=err)
    except ValidationError as err:
        db.session.rollback()
        _field_error(form, err)
        return _feed_page(get_owned(Feed, feed_id), form, status=400)
    db.session.commit()
    if edited == "refresh":
        dispatch_refresh(app, item.id)
    flash(f"Saved “{item.name}”.{EDITED_NOTES.get(edited or '', '')}", "ok")
    return redirect(url_for("settings.feed", feed_id=item.id))


@bp.post(f"{BASE}/<int:feed_id>/pause")
@login_required
def feed_pause(feed_id: int) -> Response:
    item = get_owned(Feed, feed_id)
    try:
        domain.pause_feed(item)
    except ValidationError as err:
        flash(err.message, "error")
        return _back(item)
    db.session.commit()
    flash(f"Paused “{item.name}”. Its impulses stay; nothing new is imported.", "ok")
    return _back(item)


@bp.post(f"{BASE}/<int:feed_id>/resume")
@login_required
def feed_resume(feed_id: int) -> Response:
    item = get_owned(Feed, feed_id)
    try:
        domain.resume_feed(item, now=utcnow())
    except ValidationError as err:
        db.session.rollback()
        flash(err.message, "error")
        return _back(item)
    db.session.commit()
    dispatch_refresh(current_app._get_current_object(), item.id)  # type: ignore[attr-defined]
    flash(f"Resumed “{item.name}” and started a refresh.", "ok")
    return _back(item)


@bp.post(f"{BASE}/<int:feed_id>/refresh")
@login_required
def feed_refresh(feed_id: int) -> Response:
    return _start_refresh(feed_id, full=False)


@bp.post(f"{BASE}/<int:feed_id>/reimport")
@login_required
def feed_reimport(feed_id: int) -> Response:
    return _start_refresh(feed_id, full=True)


def _start_refresh(feed_id: int, *, full: bool) -> Response:
    item = get_owned(Feed, feed_id)
    try:
        domain.request_refresh(item, full=full, now=utcnow())
    except ValidationError as err:
        flash(err.message, "error")
        return _back(item)
    db.session.commit()
    dispatch_refresh(current_app._get_current_object(), item.id)  # type: ignore[attr-defined]
    what = "A full re-import" if full else "A refresh"
    flash(f"{what} of “{item.name}” has started.", "ok")
    return _back(item)


def _back(item: Feed) -> Response:
    """Back to where the button was pressed: the feed's page or the list."""
    if request.form.get("next") == "list":
        return redirect(url_for("settings.impulses"))
    return redirect(url_for("settings.feed", feed_id=item.id))


@bp.route(f"{BASE}/<int:feed_id>/disconnect", methods=["GET", "POST"])
@login_required
def feed_disconnect(feed_id: int) -> Page:
    item = get_owned(Feed, feed_id)
    if request.method == "GET":
        impulses = db.session.scalar(
            sa.select(sa.func.count(Occurrence.id)).where(Occurrence.feed_id == item.id)
        )
        return render_template("settings/feed_disconnect.html", feed=item, impulses=impulses)
    name = item.name
    kept = domain.disconnect_feed(db.session, item)
    db.session.commit()
    entries = "1 time entry" if kept == 1 else f"{kept} time entries"
    flash(f"Disconnected “{name}”. Its impulses are gone; {entries} tracked from it stay.", "ok")
    return redirect(url_for("settings.impulses"))


@bp.get(f"{BASE}/<int:feed_id>/status")
@login_required
def feed_status(feed_id: int) -> Response:
    item = get_owned(Feed, feed_id)
    run = db.session.scalars(
        sa.select(SyncRun)
        .where(SyncRun.feed_id == item.id)
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(1)
    ).first()
    counts = (
        {"new": run.new, "changed": run.changed, "removed": run.removed, "unchanged": run.unchanged}
        if run
        else None
    )
    return jsonify(
        progress=item.progress,
        state=item.state,
        last_refreshed=_iso(item.last_success_at),
        next=_iso(item.next_refresh_at) if item.kind == "url" and not item.paused else None,
        error=item.last_error_message if item.progress == "error" or item.failure_count else None,
        outcome=run.outcome if run else None,
        counts=counts,
    )


# --- presentation helpers ---------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _kind_entry(kind: str | None) -> Any:
    """The catalogue entry for a stored error kind (None for unknown kinds)."""
    from app.errors import FeedErrorKind

    try:
        return for_feed_error(FeedError(FeedErrorKind(kind), ""))
    except (ValueError, KeyError):
        return None


def _relative(value: datetime | None, now: datetime | None = None) -> str:
    """'3 min ago', 'in 12 min', 'just now' — short enough for a list row."""
    if value is None:
        return "never"
    now = now or utcnow()
    # Compared before rounding: a moment ago is "just now", never "in a moment".
    past, seconds = value <= now, abs(int((value - now).total_seconds()))
    if seconds < 60:
        return "just now" if past else "in a moment"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            amount = f"{seconds // size} {unit}"
            return f"{amount} ago" if past else f"in {amount}"
    return ""
