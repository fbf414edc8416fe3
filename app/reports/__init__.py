"""Reports: totals by project and day for a date range, a chart, CSV export."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from app.reports import views  # noqa: E402,F401
