"""Turn one expanded icalendar component into an ``Occurrence``.

Times come from the expanded component; the texts a user reads come from
the event's own block (see ``events.py``: icalendar never saw them).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Event

from app.feeds.events import EventBlock, unescape_text
from app.feeds.lines import ContentLine
from app.feeds.types import BusyStatus, EventStatus, Occurrence

_BUSY: frozenset[str] = frozenset({"BUSY", "TENTATIVE", "FREE", "OOF", "WORKINGELSEWHERE"})
_STATUS: frozenset[str] = frozenset({"CONFIRMED", "TENTATIVE", "CANCELLED"})


def to_occurrence(
    event: Event,
    block: EventBlock,
    source: Event,
    recurring: bool,
    all_day_series: bool,
    floating_tz: ZoneInfo,
) -> Occurrence:
    """Build the occurrence of ``event``, expanded from ``source`` (the
    component as parsed); floating times are read in ``floating_tz``."""
    start = _value(event.get("DTSTART"), floating_tz)
    if start is None:
        raise ValueError("the event has no readable DTSTART")
    end = fix_end(start, _value(event.get("DTEND"), floating_tz))
    original = _original_start(event, source, start, floating_tz)
    recurrence_id = _recurrence_id(original, all_day_series) if recurring else None
    return build_occurrence(block, start, end, recurrence_id)


def build_occurrence(
    block: EventBlock, start: date | datetime, end: date | datetime, recurrence_id: str | None
) -> Occurrence:
    """The occurrence with ``block``'s texts."""
    texts = block.texts
    return Occurrence(
        uid=block.uid,
        recurrence_id=recurrence_id,
        start=start,
        end=end,
        all_day=not isinstance(start, datetime),
        summary=_text(texts, "SUMMARY"),
        location=_text(texts, "LOCATION"),
        description=_text(texts, "DESCRIPTION"),
        organizer=_organizer(texts.get("ORGANIZER")),
        busy_status=_busy_status(texts),
        status=_status(texts),
        private=_text(texts, "CLASS").upper() in ("PRIVATE", "CONFIDENTIAL"),
    )


def _value(prop: Any, floating_tz: ZoneInfo) -> date | datetime | None:
    value = getattr(prop, "dt", None)
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=floating_tz)
    if isinstance(value, date):
        return value
    return None


def _original_start(
    event: Event, source: Event, start: date | datetime, floating_tz: ZoneInfo
) -> date | datetime:
    """Where this instance was before any override moved it.

    recurring-ical-events copies a RECURRENCE-ID;RANGE=THISANDFUTURE override
    onto every later instance, RECURRENCE-ID included; the original start of
    such an instance is its start minus the override's shift.
    """
    original = _value(event.get("RECURRENCE-ID"), floating_tz) or start
    prop = source.get("RECURRENCE-ID")
    if prop is None or str(prop.params.get("RANGE", "")).upper() != "THISANDFUTURE":
        return original
    moved_to = _value(source.get("DTSTART"), floating_tz)
    moved_from = _value(prop, floating_tz)
    if type(moved_to) is not type(moved_from) or type(start) is not type(moved_to):
        return original
    return start - (moved_to - moved_from)  # type: ignore[operator]


def fix_end(start: date | datetime, end: date | datetime | None) -> date | datetime:
    """The end to show; no end (or one before the start) means one day
    (all-day) or zero length (timed)."""
    if isinstance(start, datetime):
        if isinstance(end, datetime) and end >= start:
            return end
        return start
    if isinstance(end, datetime):
        end = end.date()
    if isinstance(end, date) and end > start:
        return end
    return start + timedelta(days=1)


def _recurrence_id(original: date | datetime, all_day_series: bool) -> str:
    """ISO form of the original start: UTC for timed series, a date for all-day ones.

    Exchange writes an all-day override's RECURRENCE-ID as local midnight
    with a TZID; its local date is the instance it replaces.
    """
    if all_day_series or not isinstance(original, datetime):
        day = original.date() if isinstance(original, datetime) else original
        return day.isoformat()
    return original.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(texts: dict[str, ContentLine], name: str) -> str:
    line = texts.get(name)
    return unescape_text(line.value) if line is not None else ""


def _organizer(line: ContentLine | None) -> str:
    """The organizer's name (CN) when given, else the address without mailto:."""
    if line is None:
        return ""
    name = line.param("CN")
    if name:
        return unescape_text(name)
    text = line.value.strip()
    return text[7:] if text.lower().startswith("mailto:") else text


def _busy_status(texts: dict[str, ContentLine]) -> BusyStatus | None:
    """Exchange's X-MICROSOFT-CDO-BUSYSTATUS, else what TRANSP implies."""
    busy = _text(texts, "X-MICROSOFT-CDO-BUSYSTATUS").upper()
    if busy in _BUSY:
        return busy  # type: ignore[return-value]
    transp = _text(texts, "TRANSP").upper()
    if transp == "TRANSPARENT":
        return "FREE"
    if transp == "OPAQUE":
        return "BUSY"
    return None


def _status(texts: dict[str, ContentLine]) -> EventStatus | None:
    status = _text(texts, "STATUS").upper()
    return status if status in _STATUS else None  # type: ignore[return-value]
