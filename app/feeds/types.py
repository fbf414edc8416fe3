"""Values that flow through the feed engine: fetch → parse → expand → diagnose.

Plain frozen dataclasses so that callers (web, CLI, worker) can store,
compare and serialise them without knowing how they were produced.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

Severity = Literal["info", "warning", "error"]
DetailLevel = Literal["availability_only", "limited", "full", "unknown"]
BusyStatus = Literal["BUSY", "TENTATIVE", "FREE", "OOF", "WORKINGELSEWHERE"]
EventStatus = Literal["CONFIRMED", "TENTATIVE", "CANCELLED"]


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What the guarded fetch brought back.

    ``body`` is empty and ``not_modified`` true for a 304. No URL is kept
    here on purpose: the URL is a secret and results end up in logs and sync
    records.
    """

    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str | None
    not_modified: bool
    elapsed: float

    @property
    def sha256(self) -> str | None:
        """Hash of the raw body (None for a 304).

        Computed when asked for: a refresh compares ``body_fingerprint``
        instead, and hashing a large body on every fetch cost as much as
        the rest of an unchanged refresh's fetch.
        """
        return None if self.not_modified else hashlib.sha256(self.body).hexdigest()


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One concrete instance of an event inside the window.

    Identity is ``(uid, recurrence_id)``: ``recurrence_id`` is None for a
    single event and, for an instance of a series (override or plain), the
    ISO form of its original start — UTC ``YYYY-MM-DDTHH:MM:SSZ`` for timed
    series, ``YYYY-MM-DD`` for all-day ones — so it stays stable when the
    instance is moved.

    ``start``/``end`` are timezone-aware datetimes for timed events and
    ``date`` objects (end exclusive) for all-day events.
    """

    uid: str
    recurrence_id: str | None
    start: datetime | date
    end: datetime | date
    all_day: bool
    summary: str
    location: str = ""
    description: str = ""
    organizer: str = ""
    busy_status: BusyStatus | None = None
    status: EventStatus | None = None
    private: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.uid, self.recurrence_id or "")

    def content_hash(self) -> str:
        """Hash of everything a user would notice changing."""
        parts = (
            self.start.isoformat(),
            self.end.isoformat(),
            str(self.all_day),
            self.summary,
            self.location,
            self.description,
            self.organizer,
            self.busy_status or "",
            self.status or "",
            str(self.private),
        )
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding about a feed: ``code`` is stable, ``message`` is for people."""

    code: str
    severity: Severity
    message: str
    uid: str | None = None


@dataclass(frozen=True, slots=True)
class TimezoneMapping:
    """How a TZID found in the feed was resolved (shown on the feed page)."""

    tzid: str
    zone: str | None  # IANA name, or None when it stayed floating / unknown
    how: Literal["iana", "windows", "display_name", "vtimezone", "guessed", "unknown"]


@dataclass(slots=True)
class FeedReport:
    """Everything one pass of the engine learned about a calendar."""

    prodid: str | None
    event_count: int  # VEVENT components in the body
    detail_level: DetailLevel
    occurrences: list[Occurrence] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    timezones: list[TimezoneMapping] = field(default_factory=list)
    # REFRESH-INTERVAL / X-PUBLISHED-TTL in seconds, when the feed says so.
    refresh_interval: int | None = None
