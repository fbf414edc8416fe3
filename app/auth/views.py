"""Sign up, log in, log out."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import timeutil
from app.auth import bp
from app.auth.accounts import authenticate, create_user, normalize_email
from app.auth.forms import LoginForm, SignupForm
from app.auth.sessions import log_in, log_out
from app.auth.throttle import ThrottleUnavailable, app_throttle
from app.errors import ValidationError
from app.extensions import db


def safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes to the dashboard.

    Browsers read a backslash as a slash (so "/" + backslash + "evil.example"
    is another site) and silently drop tabs and newlines inside URLs, so
    those characters are refused outright rather than parsed.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.index")
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return url_for("dashboard.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("dashboard.index")
    return target


@bp.app_errorhandler(ThrottleUnavailable)
def throttle_unavailable(err: ThrottleUnavailable) -> tuple[str, int]:
    db.session.rollback()
    return render_template(
        "error.html", code=503, title="Try again shortly", message=err.message
    ), 503


def _browser_zone(form: SignupForm) -> str:
    """The zone app.js read from the browser, if it is one we know; else UTC.

    The field is hidden and filled by script, so a missing or odd value is
    not the user's mistake and gets no error message: UTC until they pick.
    """
    try:
        return timeutil.validate_zone((form.timezone.data or "").strip())
    except ValidationError:
        return "UTC"


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.email.data or "", form.password.data or "", _browser_zone(form))
            db.session.commit()
        except ValidationError as err:
            db.session.rollback()
            getattr(form, err.field or "email").errors.append(err.message)
        except sa.exc.IntegrityError:
            # The same address signed up in a parallel request: the unique index caught it.
            db.session.rollback()
            form.email.errors.append("An account with that e-mail address exists already.")
        else:
            log_in(user)
            flash(
                f"Welcome to Timepulse! Times are shown in {user.timezone}; "
                "check it and your week start, then connect your calendar.",
                "ok",
            )
            return redirect(url_for("settings.profile"))
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        keys = (f"ip:{request.remote_addr}", f"account:{normalize_email(form.email.data or '')}")
        throttle = app_throttle()
        if any(throttle.blocked(k) for k in keys):
            form.password.errors.append(
                "Too many failed attempts. Wait a few minutes, then try again."
            )
            return render_template("auth/login.html", form=form), 429
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            for key in keys:
                throttle.failure(key)
            form.password.errors.append("That e-mail address and password do not match.")
        else:
            throttle.reset(keys[1])
            log_in(user)  # commits a rehashed password too
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    log_out()
    flash("You are logged out.", "ok")
    return redirect(url_for("auth.login"))
