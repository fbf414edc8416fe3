"""Is what arrived a calendar? Shared by fetched feeds and uploaded files."""

from __future__ import annotations

from app.errors import FeedError, FeedErrorKind

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _head(body: bytes) -> str:
    """The first characters of ``body`` with BOM and leading whitespace removed."""
    sample = body[:1024]
    for bom, codec in _BOMS:
        if sample.startswith(bom):
            return sample.decode(codec, errors="ignore").lstrip("\ufeff \t\r\n\x00")
    return sample.decode("latin-1").lstrip("\ufeff \t\r\n\x00")


def looks_like_calendar(body: bytes) -> bool:
    """True when ``body`` starts with BEGIN:VCALENDAR (after BOM and whitespace)."""
    return _head(body).upper().startswith("BEGIN:VCALENDAR")


def check_calendar_body(body: bytes) -> None:
    """Raise FeedError(NOT_CALENDAR) unless ``body`` is a calendar; shared with uploads.

    The common failure is not garbage but a web page: an Outlook sign-in page
    or an error page served with status 200.
    """
    if looks_like_calendar(body):
        return
    head = _head(body)
    if not head:
        message = "What arrived is empty, not a calendar."
    elif head.startswith("<"):
        message = (
            "What arrived is a web page (it looks like a sign-in or error page), not a "
            "calendar. Use the ICS link you get when you publish the calendar (it ends in "
            ".ics), not the address of a page you open in the browser."
        )
    else:
        message = (
            "What arrived is not a calendar: a calendar starts with BEGIN:VCALENDAR. "
            "Check that you used the ICS link of a published calendar."
        )
    raise FeedError(FeedErrorKind.NOT_CALENDAR, message, detail=f"starts with {head[:40]!r}")
