"""The account page: password, e-mail, export, delete."""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from app.account import bp
from app.account.forms import DeleteForm, EmailForm, PasswordForm
from app.account.service import (
    WrongPassword,
    change_email,
    change_password,
    delete_account,
    entries_csv,
    export_data,
)
from app.auth.sessions import end_sessions, log_in
from app.auth.throttle import app_throttle
from app.errors import ValidationError
from app.extensions import db
from app.timeutil import today, zone

TOO_MANY = "Too many wrong passwords. Wait a few minutes, then try again."


def _forms() -> tuple[PasswordForm, EmailForm]:
    return PasswordForm(prefix="pw"), EmailForm(prefix="em")


def _page(status: int = 200, **forms: FlaskForm) -> tuple[str, int]:
    pw, em = _forms()
    forms = {"password_form": pw, "email_form": em, **forms}
    return render_template("account/index.html", **forms), status


def _apply(form: FlaskForm, action: Callable[[], None], field: str) -> int:
    """Validate ``form``, run ``action`` and commit; the status to answer with.

    A wrong password counts against the account in the login throttle.
    """
    if not form.validate_on_submit():
        return 400
    key = f"account:{current_user.email}"
    throttle = app_throttle()
    if throttle.blocked(key):
        getattr(form, field).errors.append(TOO_MANY)
        return 429
    try:
        action()
    except ValidationError as err:
        db.session.rollback()
        if isinstance(err, WrongPassword):
            throttle.failure(key)
        getattr(form, err.field or field).errors.append(err.message)
        return 400
    db.session.commit()
    return 200


@bp.get("/")
@login_required
def index() -> tuple[str, int]:
    return _page()


@bp.post("/password")
@login_required
def password() -> Response | tuple[str, int]:
    form = PasswordForm(prefix="pw")
    user = current_user._get_current_object()
    status = _apply(
        form,
        lambda: change_password(
            user, form.current.data or "", form.new.data or "", form.confirm.data or ""
        ),
        "current",
    )
    if status != 200:
        return _page(status, password_form=form)
    # change_password ended every session; this browser gets a new one.
    log_in(user)
    flash("Password changed. Other devices are logged out.", "ok")
    return redirect(url_for("account.index"))


@bp.post("/email")
@login_required
def email() -> Response | tuple[str, int]:
    form = EmailForm(prefix="em")
    user = current_user._get_current_object()
    status = _apply(
        form, lambda: change_email(user, form.email.data or "", form.password.data or ""), "email"
    )
    if status != 200:
        return _page(status, email_form=form)
    flash(f"Your e-mail address is now {user.email}.", "ok")
    return redirect(url_for("account.index"))


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere() -> Response:
    """End every other session of the user (other browsers, a stolen cookie)."""
    user = current_user._get_current_object()
    # Every session ends, this one too (a copy of its cookie may be what
    # was stolen); this browser gets a new one.
    end_sessions(user)
    log_in(user)
    flash("Every other session is logged out.", "ok")
    return redirect(url_for("account.index"))


def _download(body: str, mimetype: str, extension: str) -> Response:
    name = f"timepulse-{today(zone(current_user.timezone)).isoformat()}.{extension}"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export.json")
@login_required
def export_json() -> Response:
    data = export_data(current_user._get_current_object())
    return _download(json.dumps(data, indent=2, ensure_ascii=False), "application/json", "json")


@bp.get("/export.csv")
@login_required
def export_csv() -> Response:
    return _download(entries_csv(current_user._get_current_object()), "text/csv", "csv")


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete() -> str | Response | tuple[str, int]:
    form = DeleteForm()
    if request.method == "GET":
        return render_template("account/delete.html", form=form)
    user = current_user._get_current_object()
    status = _apply(form, lambda: delete_account(user, form.password.data or ""), "password")
    if status != 200:
        return render_template("account/delete.html", form=form), status
    logout_user()
    session.clear()
    flash("Your account and all its data are deleted.", "ok")
    return redirect(url_for("auth.login"))
