"""Settings: the profile (time zone, week start, rounding) and, in sub-pages,
time tracking options such as calendar feeds."""

from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")

from app.settings import feeds, uploads, views  # noqa: E402,F401
