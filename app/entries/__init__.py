"""Time entries: the timer, manual entries and the week timesheet."""

from flask import Blueprint

bp = Blueprint("entries", __name__, url_prefix="/entries")

from app.entries import views  # noqa: E402,F401
