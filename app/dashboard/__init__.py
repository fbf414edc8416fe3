"""The dashboard: running timer, impulse panel, today's and the week's entries."""

from flask import Blueprint

from app.dashboard.rows import row_url, swatch_svg

bp = Blueprint("dashboard", __name__)
# For every template with rows of impulses, entries or changes (the timesheet too).
bp.add_app_template_global(row_url, "row_url")
bp.add_app_template_global(swatch_svg, "swatch_svg")

from app.dashboard import views  # noqa: E402,F401
