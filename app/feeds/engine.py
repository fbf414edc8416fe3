"""The feed engine's entry points: read, expand, inspect, fingerprint.

``inspect_calendar`` is what the web app, the CLI and the workers call:
parse → expand → diagnose, all on values, nothing of Flask or the database.
"""

from __future__ import annotations

import hashlib
import re
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
_DTSTAMP_LINE = rb"DTSTAMP[;:][^\r\n]*(?:\r?\n[ \t][^\r\n]*)*(?:\r?\n)?"


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

    For a body whose DTSTAMP lines are spelled in capitals (every publisher
    we know of) this is the hash of the body with every DTSTAMP line removed
    (matched case-insensitively at line starts, as fingerprints were first
    defined), so fingerprints stored before stay valid. It only ever leaves
    *more* in (a lower-case ``dtstamp``, a DTSTAMP line right after another
    one): such a body may look changed when it is not, which
    costs one parse, but a body that really changed never looks unchanged.
    """
    if data.startswith(b"DTSTAMP"):  # not a calendar, but hash it the same way
        first = _VOLATILE_AT.match(data)
        data = data[first.end() :] if first else data
    # A case-insensitive, line-anchored pattern tries a match at every
    # byte and cost more than the rest of an unchanged refresh; this pattern
    # starts with a literal the regex engine searches for quickly. The kept
    # stretches are hashed in place: a copy as large as the body (``sub``)
    # got fresh memory pages from the system on every refresh, which cost as
    # much as the hash itself.
    digest = hashlib.sha256()
    view = memoryview(data)
    kept = 0
    for found in _VOLATILE_LINE.finditer(data):
        digest.update(view[kept : found.start() + 1])  # the line break before it stays
        kept = found.end()
    digest.update(view[kept:])
    return digest.hexdigest()


# A DTSTAMP line (with its folded continuation lines and its line break)
# together with the line break before it, which the hash keeps.
# A DTSTAMP line directly after another one keeps its own: its line break was
# taken by the first match (kept in the hash: safe, and never seen in practice).
_VOLATILE_LINE = re.compile(rb"\n" + _DTSTAMP_LINE)
_VOLATILE_AT = re.compile(_DTSTAMP_LINE)
