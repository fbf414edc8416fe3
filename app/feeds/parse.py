"""Read a feed body into cleaned event blocks, without building icalendar objects yet.

The body is decoded, unfolded and split into VEVENT and VTIMEZONE blocks.
Each event's lines are repaired where publishers are known to break them,
its TZIDs are rewritten to IANA zones (or to per-feed isolated VTIMEZONEs,
see ``zones.py``), and the cheap bounds of its occurrences are read from
the text so that ``expand`` parses only the events that can touch its window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.errors import FeedError, FeedErrorKind
from app.feeds.events import EventBlock, clean_events
from app.feeds.lines import ContentLine, decode_body, parse_duration, parse_line, unfold
from app.feeds.types import Diagnostic, TimezoneMapping
from app.feeds.tzmap import normalise_tzid, zone_from_name
from app.feeds.zones import FeedZones


@dataclass(slots=True)
class ParsedFeed:
    """A feed read once: event blocks grouped by UID, zones, and findings."""

    prodid: str | None
    event_count: int
    refresh_interval: int | None
    calendar_zone: str | None  # X-WR-TIMEZONE, resolved to IANA
    feed_zone: str | None  # the one zone all VTIMEZONEs name, if they agree
    groups: dict[str, list[EventBlock]]
    vtimezones: list[list[str]]  # isolated (renamed) VTIMEZONE blocks
    timezones: list[TimezoneMapping]
    diagnostics: list[Diagnostic]
    # Parsed icalendar components by (default zone, UID), filled by expand().
    cache: dict[tuple[str, str], list[Any]] = field(default_factory=dict)


@dataclass(slots=True)
class _Scan:
    calendar_props: dict[str, ContentLine] = field(default_factory=dict)
    events: list[list[str]] = field(default_factory=list)
    vtimezones: dict[str, list[str]] = field(default_factory=dict)
    calendars: int = 0


def read_feed(data: bytes) -> ParsedFeed:
    """Parse a feed body. Raises FeedError(NOT_CALENDAR) when it is no calendar."""
    lines = unfold(decode_body(data))
    scan = _scan(lines)
    if scan.calendars == 0:
        raise FeedError(FeedErrorKind.NOT_CALENDAR, _not_calendar_message(lines))
    zones = FeedZones(scan.vtimezones)
    diagnostics: list[Diagnostic] = []
    blocks = clean_events(scan.events, zones, diagnostics)
    groups: dict[str, list[EventBlock]] = {}
    for block in blocks:
        groups.setdefault(block.uid, []).append(block)
    calendar_zone = _calendar_zone(scan.calendar_props.get("X-WR-TIMEZONE"))
    zone_diagnostics = [c.diagnostic for c in zones.choices.values() if c.diagnostic]
    return ParsedFeed(
        prodid=_prop_value(scan.calendar_props.get("PRODID")),
        event_count=len(scan.events),
        refresh_interval=_refresh_interval(scan.calendar_props),
        calendar_zone=calendar_zone,
        feed_zone=zones.single_zone(),
        groups=groups,
        vtimezones=zones.isolated_blocks(),
        timezones=[c.mapping for c in zones.choices.values()],
        diagnostics=zone_diagnostics + diagnostics,
    )


def _not_calendar_message(lines: list[str]) -> str:
    head = " ".join(lines[:3]).lower()
    if "<html" in head or "<!doctype" in head:
        return "The address answered with a web page, not a calendar."
    return "The data is not an iCalendar file (no BEGIN:VCALENDAR)."


def _prop_value(line: ContentLine | None) -> str | None:
    return line.value.strip() if line is not None and line.value.strip() else None


def _calendar_zone(line: ContentLine | None) -> str | None:
    value = _prop_value(line)
    found = zone_from_name(value) if value else None
    return found[0] if found else None


def _refresh_interval(props: dict[str, ContentLine]) -> int | None:
    """REFRESH-INTERVAL (RFC 7986) or Microsoft's X-PUBLISHED-TTL, in seconds."""
    for name in ("REFRESH-INTERVAL", "X-PUBLISHED-TTL"):
        value = _prop_value(props.get(name))
        duration = parse_duration(value) if value else None
        if duration is not None and not duration.negative and duration.seconds > 0:
            return duration.seconds
    return None


def _scan(lines: list[str]) -> _Scan:
    """Split the body into calendar properties, VEVENT and VTIMEZONE blocks.

    Tolerates several VCALENDARs in one body (their events are merged), a
    missing END:VCALENDAR, a VEVENT that is never closed and unbalanced
    subcomponents: a stray END is dropped, an END closes whatever was left
    open inside it, and BEGIN:VEVENT always starts a new event, so one broken
    VALARM can never swallow the meetings after it.
    """
    scan = _Scan()
    block: list[str] | None = None
    kind = ""
    open_: list[str] = []  # component names open inside the current block
    for line in lines:
        upper = line[:16].upper()
        if upper.startswith("BEGIN:"):
            name = line[6:].strip().upper()
            if name == "VCALENDAR":
                scan.calendars += 1
                _close(scan, kind, block, open_)
                block = None
                continue
            if block is None or name == "VEVENT":
                _close(scan, kind, block, open_)
                kind = name if name in ("VEVENT", "VTIMEZONE") else ""  # VTODO etc.: skipped
                block, open_ = [line], [name]
                continue
            open_.append(name)
        elif upper.startswith("END:"):
            name = line[4:].strip().upper()
            if name == "VCALENDAR":
                _close(scan, kind, block, open_)
                block = None
                continue
            if block is None or name not in open_:
                continue  # a stray END closes nothing
            while open_[-1] != name:
                block.append(f"END:{open_.pop()}")
            open_.pop()
            block.append(line)
            if not open_:
                _close(scan, kind, block, open_)
                block = None
            continue
        if block is not None:
            block.append(line)
        elif line[:1] not in ("", " ") and (prop := parse_line(line)) is not None:
            scan.calendar_props.setdefault(prop.name, prop)
    _close(scan, kind, block, open_)
    return scan


def _close(scan: _Scan, kind: str, block: list[str] | None, open_: list[str]) -> None:
    """File a finished block under its kind (other components are dropped)."""
    if block is None:
        return
    while open_:  # close what the publisher left open, innermost first
        block.append(f"END:{open_.pop()}")
    if kind == "VEVENT":
        scan.events.append(block)
    elif kind == "VTIMEZONE":
        tzid = next((ln for ln in block if ln.upper().startswith("TZID")), None)
        prop = parse_line(tzid) if tzid else None
        if prop is not None:
            scan.vtimezones.setdefault(normalise_tzid(prop.value), block)
