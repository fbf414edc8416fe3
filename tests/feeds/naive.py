"""The plain-library path (icalendar + recurring-ical-events), for comparison."""

from __future__ import annotations

import warnings
from datetime import UTC, date, datetime
from typing import Any

import icalendar
import recurring_ical_events

from app.feeds.types import Occurrence


def naive_occurrences(data: bytes, start: datetime, end: datetime) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calendar = icalendar.Calendar.from_ical(data)
        return list(recurring_ical_events.of(calendar).between(start, end))


def _moment(value: date | datetime) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat() + " floating"
        return value.astimezone(UTC).isoformat()
    return value.isoformat()


def naive_key(event: Any) -> tuple[str, str, str, str]:
    start = event["DTSTART"].dt
    end = event["DTEND"].dt if "DTEND" in event else start
    summary = str(event.get("SUMMARY", "")).strip()
    return (str(event.get("UID", "")), _moment(start), _moment(end), summary)


def our_key(occurrence: Occurrence, floating: bool = False) -> tuple[str, str, str, str]:
    start, end = occurrence.start, occurrence.end
    if floating and isinstance(start, datetime) and isinstance(end, datetime):
        return (
            occurrence.uid,
            start.replace(tzinfo=None).isoformat() + " floating",
            end.replace(tzinfo=None).isoformat() + " floating",
            occurrence.summary,
        )
    return (occurrence.uid, _moment(start), _moment(end), occurrence.summary)
