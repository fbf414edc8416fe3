"""Turn calendar bytes into a FeedReport for the diagnostics tests.

Goes through the real engine (``inspect_calendar``: parse, expand, diagnose),
so the tests see occurrences exactly as a refresh does.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from app.feeds.engine import inspect_calendar
from app.feeds.types import FeedReport

CALENDARS = Path(__file__).resolve().parent.parent / "calendars"
UTC = ZoneInfo("UTC")


def corpus_dir() -> Path:
    """The shared real-world corpus (TIMEPULSE_ICS_CORPUS overrides)."""
    default = Path(__file__).resolve().parents[2] / ".." / "shared" / "ics-corpus"
    return Path(os.environ.get("TIMEPULSE_ICS_CORPUS", default)).resolve()


def read_report(data: bytes, start: date, end: date) -> FeedReport:
    """Occurrences in ``[start, end)`` (UTC days) plus the VEVENT count."""
    return inspect_calendar(data, _utc(start), _utc(end), default_tz=UTC)


def read_fixture(name: str, start: date, end: date) -> FeedReport:
    return read_report((CALENDARS / name).read_bytes(), start, end)


def _utc(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
