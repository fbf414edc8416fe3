"""Projects: what time is tracked against (client, colour, billable default)."""

from flask import Blueprint

bp = Blueprint("projects", __name__, url_prefix="/projects")

from app.projects import views  # noqa: E402,F401
