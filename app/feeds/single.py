"""Occurrences of plain single events, read straight from their text.

Most events in a published calendar are one-off meetings. Their times need
no recurrence engine: DTSTART, DTEND or DURATION, and a zone that is an IANA
name after the parser's rewrite. Skipping icalendar and recurring-ical-events
for them is most of the engine's speed; anything unusual (a zone kept as an
isolated VTIMEZONE, an unreadable value) returns None and takes the full path.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.feeds.events import EventBlock, parse_basic
from app.feeds.lines import ContentLine, parse_duration, parse_line
from app.feeds.occurrence import build_occurrence, fix_end
from app.feeds.types import Occurrence


class _NeedsFullPath(Exception):
    """This event is better read by icalendar."""


def is_plain_single(group: list[EventBlock]) -> bool:
    """One VEVENT, no recurrence, no RECURRENCE-ID."""
    return len(group) == 1 and not group[0].recurring and not group[0].override


def single_occurrence(block: EventBlock, floating_tz: ZoneInfo) -> Occurrence | None:
    """The event's one occurrence, or None when it must take the full path."""
    props = {p.name: p for p in map(parse_line, block.lines[1:-1]) if p is not None}
    try:
        start = _when(props.get("DTSTART"), floating_tz)
        if start is None:
            return None
        end = fix_end(start, _end(props, start, floating_tz))
    except (_NeedsFullPath, OverflowError):
        return None  # the full path reads it, or reports it as skipped
    return build_occurrence(block, start, end, None)


def _end(
    props: dict[str, ContentLine], start: date | datetime, floating_tz: ZoneInfo
) -> date | datetime | None:
    if "DTEND" in props:
        return _when(props["DTEND"], floating_tz)
    if "DURATION" in props:
        duration = parse_duration(props["DURATION"].value)
        if duration is None or duration.negative:
            return None
        if isinstance(start, datetime):
            return start + timedelta(seconds=duration.seconds)
        return start + timedelta(days=duration.seconds // 86400)
    return None


def _when(prop: ContentLine | None, floating_tz: ZoneInfo) -> date | datetime | None:
    if prop is None:
        return None
    value = prop.value.strip()
    moment = parse_basic(value)
    if moment is None or "," in value:
        raise _NeedsFullPath
    if prop.param("VALUE") == "DATE" or len(value) == 8:
        return moment.date()
    if value.upper().endswith("Z"):
        return moment.replace(tzinfo=UTC)
    tzid = prop.param("TZID")
    if tzid is None:
        return moment.replace(tzinfo=floating_tz)
    try:
        return moment.replace(tzinfo=ZoneInfo(tzid))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise _NeedsFullPath from error
