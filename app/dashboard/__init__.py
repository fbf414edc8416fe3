"""The dashboard: running timer, impulse panel, today's and the week's entries."""

from flask import Blueprint

from app.dashboard.rows import day_url, page_url, row_url, swatch_svg

bp = Blueprint("dashboard", __name__)
# For every template with rows of impulses, entries or changes (the timesheet too).
for helper in (row_url, day_url, page_url, swatch_svg):
    bp.add_app_template_global(helper, helper.__name__)

from app.dashboard import views  # noqa: E402,F401
