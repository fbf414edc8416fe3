"""The dashboard page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app, render_template, request
from flask_login import current_user, login_required

from app import timeutil
from app.dashboard import bp
from app.dashboard.chart import week_bars
from app.dashboard.rows import day_url, page_url
from app.entries.forms import timer_card
from app.entries.service import totals_by_day, week_and_running
from app.impulses.panel import Filters, build_panel, parse_day
from app.impulses.rules import ListedRule, projects_and_rules


@bp.get("/")
@login_required
def index() -> str:
    tz = timeutil.zone(current_user.timezone)
    today = timeutil.today(tz)
    first = timeutil.week_start(today, current_user.week_start)
    week_from = timeutil.local_midnight(first, tz)
    week_to = timeutil.local_midnight(first + timedelta(days=7), tz)
    week_entries, running = week_and_running(current_user.id, week_from, week_to)
    day_from, day_to = timeutil.day_bounds(today, tz)
    today_entries = [
        e for e in week_entries if e.start < day_to and (e.end is None or e.end > day_from)
    ]
    totals = totals_by_day(week_entries, tz)
    days = timeutil.week_days(first)
    projects, rules = projects_and_rules(current_user.id)
    return render_template(
        "dashboard/index.html",
        running=running,
        timer=None if running else timer_card(projects),
        today=today,
        today_entries=today_entries,
        today_total=totals.get(today, timedelta()),
        week_bars=week_bars(days, totals),
        # Only this week's days: an entry from last Sunday night adds to totals too.
        week_total=sum((totals.get(d, timedelta()) for d in days), timedelta()),
        has_projects=bool(projects),
        **_impulse_panel(today, rules),
    )


def _impulse_panel(today: date, rules: list[ListedRule]) -> dict[str, Any]:
    """The impulse panel for ``?day=`` (default today) with the filters of the query string."""
    day = parse_day(request.args.get("day"), today)
    filters = Filters.from_args(request.args)
    feeds_endpoint = "settings.impulses"
    return {
        "panel": build_panel(current_user, day, filters, rules),
        "back": day_url("dashboard.index", **filters.as_args())(day),
        "feeds_url": page_url(feeds_endpoint)
        if feeds_endpoint in current_app.view_functions
        else None,
    }
