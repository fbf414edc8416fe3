"""Small helpers shared by the engine tests (windows, calendars in code)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.feeds.engine import expand, read_calendar
from app.feeds.types import Occurrence

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def occurrences(
    data: bytes, start: datetime, end: datetime, tz: ZoneInfo = BERLIN
) -> list[Occurrence]:
    return expand(read_calendar(data), start, end, default_tz=tz)


def calendar(*events: str, head: str = "") -> bytes:
    """A VCALENDAR around VEVENT bodies written without BEGIN/END lines."""
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{head}{body}END:VCALENDAR\n"
    return text.encode()


def day(value: date | datetime) -> str:
    return value.isoformat()[:10]
