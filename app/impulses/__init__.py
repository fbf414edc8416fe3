"""Impulses: the day's calendar occurrences on the dashboard, turned into time entries.

``bp`` carries the actions on impulses (track, edit & track, dismiss, track
all, resolve a changed source); ``rules_bp`` the settings page for the
user's project-suggestion rules.
"""

from flask import Blueprint

bp = Blueprint("impulses", __name__, url_prefix="/impulses")
rules_bp = Blueprint("rules", __name__, url_prefix="/settings/time-tracking/rules")

from app.impulses import rules_views, views  # noqa: E402,F401
