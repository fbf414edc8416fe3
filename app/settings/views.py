"""The profile page."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from app import timeutil
from app.errors import ValidationError
from app.extensions import db
from app.settings import bp
from app.settings.forms import ProfileForm


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> str | Response | tuple[str, int]:
    form = ProfileForm()
    if request.method == "GET":
        form.timezone.data = current_user.timezone
        form.week_start.data = str(current_user.week_start)
        form.rounding_minutes.data = str(current_user.rounding_minutes)
        form.rounding_mode.data = current_user.rounding_mode
    elif form.validate_on_submit():
        try:
            current_user.timezone = timeutil.validate_zone((form.timezone.data or "").strip())
        except ValidationError as err:
            form.timezone.errors.append(err.message)
        else:
            current_user.week_start = int(form.week_start.data or 0)
            current_user.rounding_minutes = int(form.rounding_minutes.data or 0)
            current_user.rounding_mode = form.rounding_mode.data or "nearest"
            db.session.commit()
            flash("Profile saved.", "ok")
            return redirect(url_for("settings.profile"))
    status = 400 if form.errors else 200
    return render_template("settings/profile.html", form=form, zones=timeutil.known_zones()), status
