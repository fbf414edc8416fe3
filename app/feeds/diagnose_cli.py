"""``timepulse feeds diagnose SOURCE``: explain a calendar feed to a person.

SOURCE is a file, ``-`` (standard input) or an ``https://`` link. The
command reads the calendar the way a refresh would (guarded fetch, parse,
expand), diagnoses it, and prints the detail level, the number of events
and every finding with its fix and the help-page section that explains it.

Exit status: 0 when there is nothing to fix, 1 when a finding is a warning
or an error (availability only, skipped events, …), 2 when the source is
not a calendar or cannot be read (one line on standard error).

Plain click, no Flask: the app attaches this command to its ``feeds`` group.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from app.errors import FeedError, FeedErrorKind
from app.feeds.catalogue import for_feed_error, lookup
from app.feeds.diagnose import diagnose as diagnose_feed
from app.feeds.diagnose import needs_fix
from app.feeds.types import DetailLevel, Diagnostic, FeedReport

# Same default window as a refresh (DESIGN.md, step 4).
DAYS_BACK = 90
DAYS_AHEAD = 30

EXIT_OK, EXIT_FIX, EXIT_UNREADABLE = 0, 1, 2

Inspector = Callable[[bytes, datetime, datetime, ZoneInfo], FeedReport]

LEVEL_WORDS: dict[DetailLevel, str] = {
    "availability_only": "availability only (Busy / Free, no subjects)",
    "limited": "limited details (subjects and locations)",
    "full": "full details (subjects, locations and descriptions)",
    "unknown": "unknown (no events to judge by)",
}


class SourceError(Exception):
    """The source could not be read at all (missing file, unsupported link)."""


@click.command("diagnose")
@click.argument("source")
@click.option(
    "--from",
    "start",
    type=click.DateTime(["%Y-%m-%d"]),
    help=f"First day to look at (default: {DAYS_BACK} days ago).",
)
@click.option(
    "--to",
    "end",
    type=click.DateTime(["%Y-%m-%d"]),
    help=f"Day after the last one to look at (default: {DAYS_AHEAD} days ahead).",
)
@click.option(
    "--tz",
    "zone",
    default="UTC",
    show_default=True,
    help="Time zone for times the calendar gives without one.",
)
def diagnose(source: str, start: datetime | None, end: datetime | None, zone: str) -> None:
    """Explain what is wrong with a published calendar, and how to fix it."""
    try:
        default_tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(f"unknown time zone {zone!r}", param_hint="--tz") from exc
    window = _window(start, end, datetime.now(UTC))
    try:
        report = _inspect(read_source(source), window, default_tz)
    except FeedError as err:
        _fail(_feed_error_line(err))
    except SourceError as exc:
        _fail(f"error: {exc}")
    level, findings = diagnose_feed(
        report.occurrences, event_count=report.event_count, parse_diagnostics=report.diagnostics
    )
    click.echo(render(source, report, level, findings, window))
    sys.exit(EXIT_FIX if needs_fix(findings) else EXIT_OK)


def _window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """The expansion window as aware UTC datetimes at midnight."""
    today = now.astimezone(UTC).date()
    first = start.date() if start else today - timedelta(days=DAYS_BACK)
    last = end.date() if end else today + timedelta(days=DAYS_AHEAD)
    if last <= first:
        raise click.BadParameter("--to must be after --from", param_hint="--to")
    return _midnight(first), _midnight(last)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _fail(line: str) -> NoReturn:
    click.echo(line, err=True)
    sys.exit(EXIT_UNREADABLE)


def _feed_error_line(err: FeedError) -> str:
    entry = for_feed_error(err)
    return f"error: {entry.title}: {err.message} Fix: {entry.fix} (see {entry.help_path})"


# --- reading ---------------------------------------------------------------------


def read_source(source: str) -> bytes:
    """The calendar's bytes from a file, ``-`` or a link; checks it is a calendar.

    Raises FeedError (fetch problems, not a calendar) or SourceError.
    """
    if source == "-":
        data = sys.stdin.buffer.read()
    elif "://" in source:
        data = _fetch(source)
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {source}: {exc.strerror or exc}") from exc
    _check_calendar(data)
    return data


def _fetch(url: str) -> bytes:
    # Imported here: the CLI must start (and read files) without the network stack.
    from app.feeds.fetch import FetchPolicy, fetch_feed

    try:
        policy = FetchPolicy.from_env(os.environ)
    except ValueError as exc:
        raise SourceError(f"invalid TIMEPULSE_* fetch setting: {exc}") from exc
    return fetch_feed(url, policy=policy).body


def _check_calendar(data: bytes) -> None:
    """Same "is this a calendar?" check as a refresh (a sign-in page is not one)."""
    from app.feeds.fetch import check_calendar_body

    check_calendar_body(data)


def load_inspector() -> Inspector:
    """The parse engine's ``inspect_calendar`` (parse + expand)."""
    try:
        from app.feeds.engine import inspect_calendar
    except ImportError as exc:  # the engine is a separate module; say so plainly
        raise SourceError("the calendar engine (app.feeds.engine) is not available") from exc

    def inspect(data: bytes, start: datetime, end: datetime, default_tz: ZoneInfo) -> FeedReport:
        return inspect_calendar(data, start, end, default_tz=default_tz)

    return inspect


def _inspect(data: bytes, window: tuple[datetime, datetime], default_tz: ZoneInfo) -> FeedReport:
    try:
        return load_inspector()(data, *window, default_tz)
    except ValueError as exc:
        # The engine reports what it can as FeedError(PARSE); a library error that
        # slips through still means "could not be read", not a crash.
        raise FeedError(
            FeedErrorKind.PARSE, "The calendar could not be read.", detail=str(exc)
        ) from exc


# --- output ----------------------------------------------------------------------


def render(
    source: str,
    report: FeedReport,
    level: DetailLevel,
    findings: list[Diagnostic],
    window: tuple[datetime, datetime],
) -> str:
    """The diagnosis as plain text for a person, fixes first."""
    first, last = window[0].date(), window[1].date() - timedelta(days=1)
    lines = [
        f"Calendar: {_source_label(source)}",
        f"Detail level: {LEVEL_WORDS[level]}",
        f"Events: {report.event_count} in the calendar, "
        f"{len(report.occurrences)} occurrence(s) from {first} to {last}",
    ]
    to_fix = [d for d in findings if d.severity != "info"]
    notes = [d for d in findings if d.severity == "info"]
    lines.append("")
    lines.append(f"{len(to_fix)} problem(s) to fix:" if to_fix else "Nothing to fix.")
    lines.extend(_finding(d) for d in to_fix)
    if notes:
        lines.extend(["", "Good to know:"])
        lines.extend(_finding(d) for d in notes)
    return "\n".join(lines)


def _finding(finding: Diagnostic) -> str:
    entry = lookup(finding.code)
    where = f" (event {finding.uid})" if finding.uid else ""
    return "\n".join(
        [
            "",
            f"[{finding.severity}] {entry.title}{where}",
            f"  {finding.message}",
            f"  Fix: {entry.fix}",
            f"  Help: {entry.help_path}",
        ]
    )


def _source_label(source: str) -> str:
    """Never print a link in full: a published-calendar URL is a secret."""
    if "://" not in source:
        return "standard input" if source == "-" else source
    from app.feeds.fetch import redact_url

    return redact_url(source)
