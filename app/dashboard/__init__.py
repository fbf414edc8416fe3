"""The dashboard: running timer, impulse panel, today's and the week's entries."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from app.dashboard import views  # noqa: E402,F401
