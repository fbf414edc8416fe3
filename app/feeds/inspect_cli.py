"""``timepulse feeds inspect``: what our engine reads from a calendar.

Plain click (no Flask): ``app/cli.py`` attaches ``inspect`` to the ``feeds``
group. SOURCE is a file, ``-`` for stdin, or an https URL fetched through the
guarded fetch. Exit 0 for any calendar whatever its diagnostics; exit 2 with
one line on stderr when the source cannot be read or is not a calendar.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from app.errors import FeedError, FeedErrorKind
from app.feeds.engine import inspect_calendar
from app.feeds.types import FeedReport, Occurrence


@click.command("inspect")
@click.argument("source")
@click.option("--from", "from_", metavar="DATE", help="First day (default: 90 days ago).")
@click.option("--to", "to", metavar="DATE", help="Day after the last (default: 30 days ahead).")
@click.option("--tz", "tz_name", default="UTC", show_default=True, metavar="ZONE")
@click.option("--include-cancelled", is_flag=True, help="Also list cancelled occurrences.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "table"]),
    default="json",
    show_default=True,
)
def inspect(
    source: str,
    from_: str | None,
    to: str | None,
    tz_name: str,
    include_cancelled: bool,
    output_format: str,
) -> None:
    """Parse and expand SOURCE (a file, - for stdin, or an https URL)."""
    tz = _zone(tz_name)
    start, end = _window(from_, to, tz)
    try:
        report = inspect_calendar(_read(source), start, end, default_tz=tz)
    except FeedError as error:
        _fail(error.message)
    shown = [o for o in report.occurrences if include_cancelled or o.status != "CANCELLED"]
    if output_format == "json":
        click.echo(json.dumps(report_json(report, shown, tz), ensure_ascii=False, indent=2))
    else:
        click.echo(report_table(report, shown, tz))


def _fail(message: str) -> NoReturn:
    """One line on stderr, exit 2."""
    click.echo(f"Error: {' '.join(message.split())}", err=True)
    sys.exit(2)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from None


def _window(from_: str | None, to: str | None, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[--from, --to) as aware datetimes at local midnight in ``tz``."""
    today = datetime.now(tz).date()
    first = _date(from_, "--from") if from_ else today - timedelta(days=90)
    last = _date(to, "--to") if to else today + timedelta(days=30)
    if last <= first:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    return datetime.combine(first, datetime.min.time(), tz), datetime.combine(
        last, datetime.min.time(), tz
    )


def _date(text: str, hint: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=hint) from None


def _read(source: str) -> bytes:
    """The body behind SOURCE; FeedError when it cannot be read or fetched."""
    if source == "-":
        return sys.stdin.buffer.read()
    if source.lower().startswith(("https://", "http://", "webcal://")):
        return _fetch(source)
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except OSError as error:
        raise FeedError(
            FeedErrorKind.PARSE, f"Cannot read {source}: {error.strerror or error}"
        ) from error


def _fetch(url: str) -> bytes:
    # Imported here: reading a file must not need the network stack.
    from app.feeds.fetch import FetchPolicy, fetch_feed

    try:
        policy = FetchPolicy.from_env(os.environ)
    except ValueError as error:
        raise FeedError(FeedErrorKind.INVALID_URL, f"Invalid fetch setting: {error}") from error
    return fetch_feed(url, policy=policy).body


def _when(value: date | datetime, tz: ZoneInfo) -> str:
    if isinstance(value, datetime):
        return value.astimezone(tz).isoformat(timespec="seconds")
    return value.isoformat()


def occurrence_json(occurrence: Occurrence, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "uid": occurrence.uid,
        "recurrence_id": occurrence.recurrence_id,
        "start": _when(occurrence.start, tz),
        "end": _when(occurrence.end, tz),
        "all_day": occurrence.all_day,
        "summary": occurrence.summary,
        "location": occurrence.location,
        "busy_status": occurrence.busy_status,
        "status": occurrence.status,
        "private": occurrence.private,
    }


def report_json(report: FeedReport, shown: list[Occurrence], tz: ZoneInfo) -> dict[str, Any]:
    """The JSON contract of ``feeds inspect --format json``."""
    return {
        "prodid": report.prodid,
        "events": report.event_count,
        "detail_level": report.detail_level,
        "diagnostics": [
            {"code": d.code, "severity": d.severity, "message": d.message, "uid": d.uid}
            for d in report.diagnostics
        ],
        "occurrences": [occurrence_json(o, tz) for o in shown],
    }


def report_table(report: FeedReport, shown: list[Occurrence], tz: ZoneInfo) -> str:
    """A human view of the same report."""
    lines = [
        f"Calendar: {report.prodid or '(no PRODID)'}",
        f"Events: {report.event_count}   Detail level: {report.detail_level}   "
        f"Occurrences: {len(shown)} (times in {tz.key})",
    ]
    for d in report.diagnostics:
        lines.append(f"  [{d.severity}] {d.code}: {d.message}")
    lines.append("")
    for o in shown:
        when = (
            f"{_when(o.start, tz)} (all day)"
            if o.all_day
            else f"{_when(o.start, tz)[:16].replace('T', ' ')}–{_when(o.end, tz)[11:16]}"
        )
        flags = " ".join(
            f for f in (o.busy_status or "", o.status or "", "private" if o.private else "") if f
        )
        lines.append(f"{when:<24} {o.summary or '(no subject)'}  {o.location}  {flags}".rstrip())
    return "\n".join(lines)
