"""The reports page and its CSV export."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_login import current_user, login_required

from app import timeutil
from app.entries.service import entries_between
from app.errors import ValidationError
from app.reports import bp
from app.reports.chart import stacked_day_chart
from app.reports.export import export_rows, filename, source_calendars, write_csv
from app.reports.periods import PRESETS, Period, neighbour, resolve_period
from app.reports.totals import build_report

# Past this many days the by-day table lists only days with time on them.
FULL_TABLE_DAYS = 31


def _period() -> Period:
    tz = timeutil.zone(current_user.timezone)
    args = request.args
    return resolve_period(
        args.get("range"),
        args.get("from"),
        args.get("to"),
        timeutil.today(tz),
        current_user.week_start,
    )


def _invalid(err: ValidationError) -> tuple[str, int]:
    return render_template(
        "reports/index.html",
        presets=PRESETS,
        period=None,
        report=None,
        error=err,
        chosen=request.args.get("range") or "custom",
        raw_from=request.args.get("from", ""),
        raw_to=request.args.get("to", ""),
    ), 400


@bp.get("/")
@login_required
def index() -> str | tuple[str, int]:
    try:
        period = _period()
    except ValidationError as err:
        return _invalid(err)
    tz = timeutil.zone(current_user.timezone)
    report = build_report(
        entries_between(current_user.id, *period.bounds(tz)), period, tz, timeutil.now()
    )
    days = period.days
    if len(days) > FULL_TABLE_DAYS:
        days = [day for day in days if report.by_day[day]]
    return render_template(
        "reports/index.html",
        presets=PRESETS,
        period=period,
        report=report,
        table_days=days,
        chart=stacked_day_chart(report) if report.entry_count else None,
        error=None,
        previous=neighbour(period, -1),
        following=neighbour(period, 1),
        chosen=period.preset,
        raw_from=period.first.isoformat(),
        raw_to=period.last.isoformat(),
    )


@bp.get("/csv")
@login_required
def csv() -> Response | tuple[str, int]:
    try:
        period = _period()
    except ValidationError as err:
        return _invalid(err)
    tz = timeutil.zone(current_user.timezone)
    entries = entries_between(current_user.id, *period.bounds(tz))
    rows = export_rows(entries, period, tz, timeutil.now(), source_calendars(entries))
    return Response(
        write_csv(rows),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename(period)}"',
            "Cache-Control": "private, no-store",
        },
    )
