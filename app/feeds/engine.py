"""The feed engine's entry points: read, expand, inspect, fingerprint.

``inspect_calendar`` is what the web app, the CLI and the workers call:
parse → expand → diagnose, all on values, nothing of Flask or the database.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from app.feeds.diagnose import diagnose
from app.feeds.expand import expand_feed
from app.feeds.parse import ParsedFeed, read_feed
from app.feeds.types import FeedReport, Occurrence

__all__ = ["ParsedFeed", "body_fingerprint", "expand", "inspect_calendar", "read_calendar"]

# DTSTAMP says when the *file* was produced, not when the event changed; some
# publishers (reportedly Office 365) restamp it on every request, so hashing
# it would make every poll look like a change. LAST-MODIFIED is kept: it moves
# only when an event really changes. Continuation lines of a folded DTSTAMP
# go with it.
_VOLATILE = re.compile(rb"(?im)^DTSTAMP[;:][^\r\n]*(?:\r?\n[ \t][^\r\n]*)*(?:\r?\n)?")


def read_calendar(data: bytes) -> ParsedFeed:
    """Parse a feed body once.

    Raises ``FeedError(NOT_CALENDAR)`` when the bytes hold no VCALENDAR.
    Malformed events never raise: they are repaired or reported in
    ``ParsedFeed.diagnostics``.
    """
    return read_feed(data)


def expand(
    parsed: ParsedFeed, start: datetime, end: datetime, *, default_tz: ZoneInfo
) -> list[Occurrence]:
    """Occurrences overlapping ``[start, end)`` (aware datetimes), sorted by start.

    Floating times are read in ``default_tz`` (or the feed's X-WR-TIMEZONE);
    cancelled instances are included with status "CANCELLED".
    """
    occurrences, _ = expand_feed(parsed, start, end, default_tz=default_tz)
    return occurrences


def inspect_calendar(
    data: bytes, start: datetime, end: datetime, *, default_tz: ZoneInfo
) -> FeedReport:
    """Parse, expand and diagnose one body. Raises FeedError when it is no calendar."""
    parsed = read_calendar(data)
    occurrences, skipped = expand_feed(parsed, start, end, default_tz=default_tz)
    detail_level, diagnostics = diagnose(
        occurrences,
        event_count=parsed.event_count,
        parse_diagnostics=[*parsed.diagnostics, *skipped],
    )
    return FeedReport(
        prodid=parsed.prodid,
        event_count=parsed.event_count,
        detail_level=detail_level,
        occurrences=occurrences,
        diagnostics=diagnostics,
        timezones=list(parsed.timezones),
        refresh_interval=parsed.refresh_interval,
    )


def body_fingerprint(data: bytes) -> str:
    """SHA-256 of the body without its DTSTAMP lines: equal for an unchanged feed.

    Hashes exactly what ``_VOLATILE.sub(b"", data)`` leaves (the stored
    fingerprints stay valid), but finds the lines with ``bytes.find``: the
    case-insensitive, line-anchored pattern tries a match at every byte,
    which cost more than the rest of an unchanged refresh of a 700 KiB feed.
    """
    digest = hashlib.sha256()
    kept = 0
    for start, end in _volatile_spans(data):
        digest.update(data[kept:start])
        kept = end
    digest.update(data[kept:])
    return digest.hexdigest()


# ``_VOLATILE`` without its line anchor and case folding, run over the
# lowered body: a literal prefix the regex engine can search for. A match
# not at a line start is skipped; it can never hide one that is, since a line
# inside a match is a folded line and starts with a space or a tab.
_VOLATILE_LOWERED = re.compile(rb"dtstamp[;:][^\r\n]*(?:\r?\n[ \t][^\r\n]*)*(?:\r?\n)?")


def _volatile_spans(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each match of ``_VOLATILE`` in ``data``, in order."""
    for found in _VOLATILE_LOWERED.finditer(data.lower()):
        start = found.start()
        if start == 0 or data[start - 1] == 0x0A:
            yield start, found.end()
