"""Settings → Time Tracking → Impulses → Import a calendar file.

For organisations that do not allow publishing a calendar: the user exports
an ``.ics`` from Outlook and uploads it here. The file becomes an "upload"
feed listed with the subscriptions; a new version of the file can be
uploaded over it. Views stay short: load-or-404, validate, call
``app.refresh.upload``, commit, flash, redirect.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional, Regexp

from app.access import get_owned
from app.errors import FeedError, ValidationError
from app.extensions import db
from app.feeds.catalogue import for_feed_error
from app.models import Feed, utcnow
from app.refresh import upload as domain
from app.refresh.policy import fetch_policy
from app.settings import bp
from app.settings.feeds import BASE, Page

_COLOUR = r"^#[0-9a-fA-F]{6}$"
NO_FILE = "Choose the .ics file you exported from Outlook."


class UploadForm(FlaskForm):
    """Import a file: the file, and the same name / colour / "import from" as a feed."""

    file = FileField("Calendar file (.ics)", render_kw={"accept": ".ics,text/calendar"})
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    colour = StringField(
        "Colour",
        default="#6b46c1",
        render_kw={"type": "color"},
        validators=[Optional(), Regexp(_COLOUR, message="Pick a colour like #6b46c1.")],
    )
    import_from = DateField("Import events from (optional)", validators=[Optional()])


class ReuploadForm(FlaskForm):
    file = FileField("New version of the file (.ics)", render_kw={"accept": ".ics,text/calendar"})


@bp.route(f"{BASE}/upload", methods=["GET", "POST"])
@login_required
def upload() -> Page:
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(form, status=400 if form.is_submitted() else 200)
    data, filename = _read(form.file.data)
    if data is None:
        _field_error(form, NO_FILE)
        return _page(form, status=400)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        feed = domain.import_calendar_file(
            db.session,
            app,
            current_user,
            filename,
            data,
            name=form.name.data,
            colour=form.colour.data,
            import_from=form.import_from.data,
            now=utcnow(),
        )
    except (FeedError, ValidationError) as err:
        db.session.rollback()
        return _page(form, status=400, error=err)
    db.session.commit()
    flash(f"Imported “{feed.name}”: {_events(feed.event_count)} read from {filename}.", "ok")
    return redirect(url_for("settings.feed", feed_id=feed.id))


@bp.route(f"{BASE}/<int:feed_id>/upload", methods=["GET", "POST"])
@login_required
def reupload(feed_id: int) -> Page:
    item = get_owned(Feed, feed_id)
    if item.kind != domain.KIND:
        return redirect(url_for("settings.feed", feed_id=item.id))
    form = ReuploadForm()
    if not form.validate_on_submit():
        return _page(UploadForm(formdata=None), target=item, re_form=form)
    data, filename = _read(form.file.data)
    if data is None:
        _field_error(form, NO_FILE)
        return _page(UploadForm(formdata=None), status=400, target=item, re_form=form)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        result = domain.reupload(db.session, app, item, data, filename=filename, now=utcnow())
    except (FeedError, ValidationError) as err:
        db.session.rollback()
        item = get_owned(Feed, feed_id)
        return _page(UploadForm(formdata=None), status=400, error=err, target=item, re_form=form)
    db.session.commit()
    flash(_reupload_message(result), "ok")
    return redirect(url_for("settings.feed", feed_id=item.id))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_err: RequestEntityTooLarge) -> Page:
    """A file over the request limit never reaches the view: say so on the upload page."""
    if request.endpoint not in ("settings.upload", "settings.reupload"):
        return render_template(
            "error.html", code=413, title="Too large", message="The request was too large."
        ), 413
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cap = min(fetch_policy(app).max_bytes, app.config.get("MAX_CONTENT_LENGTH") or 1 << 62)
    return _page(UploadForm(formdata=None), status=413, message=domain.too_large_message(cap))


# --- helpers ---------------------------------------------------------------------


def _read(storage: Any) -> tuple[bytes | None, str]:
    """The uploaded bytes and file name; None when no file was chosen."""
    if not isinstance(storage, FileStorage) or not storage.filename:
        return None, ""
    return storage.read(), domain.clean_filename(storage.filename)


def _field_error(form: FlaskForm, message: str) -> None:
    form.file.errors = [*form.file.errors, message]  # type: ignore[attr-defined]


def _page(form: UploadForm, status: int = 200, **context: Any) -> Page:
    uploads = db.session.scalars(
        sa.select(Feed)
        .where(Feed.user_id == current_user.id, Feed.kind == domain.KIND)
        .order_by(Feed.name, Feed.id)
    ).all()
    error = context.pop("error", None)
    entry = for_feed_error(error) if isinstance(error, FeedError) else None
    if error is not None and "message" not in context:
        context["message"] = error.message
    page = render_template(
        "settings/upload.html",
        form=form,
        uploads=uploads,
        entry=entry,
        limit=current_app.config.get("TIMEPULSE_MAX_FEEDS", 20),
        max_mib=f"{fetch_policy(current_app).max_bytes / (1024 * 1024):g}",  # type: ignore[arg-type]
        re_form=context.pop("re_form", None) or ReuploadForm(formdata=None),
        **context,
    )
    return (page, status) if status != 200 else page


def _events(count: int) -> str:
    return "1 event" if count == 1 else f"{count} events"


def _reupload_message(result: domain.UploadResult) -> str:
    name = result.feed.name
    if result.outcome == "unchanged":
        return f"“{name}”: this is the same file as last time, nothing changed."
    c = result.counts
    return (
        f"Updated “{name}” from the new file: {c.new} new, {c.changed} changed, "
        f"{c.removed} removed."
    )
