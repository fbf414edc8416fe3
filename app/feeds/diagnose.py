"""Step 5 of a refresh: what a person should know about this calendar.

``diagnose`` looks at the expanded occurrences and says how much the
calendar shares (availability only / limited / full details), whether some
events are private, and whether the calendar is empty. It passes the parse
step's own findings through, so the caller gets one list.

Availability-only feeds are recognised two ways, because Exchange writes the
busy state as the subject *in the publisher's language*:

* by word — every subject is a known busy-state word ("Busy", "Beschäftigt",
  "Zaneprázdněn(a)"…, see ``busywords``) that agrees with the event's
  ``X-MICROSOFT-CDO-BUSYSTATUS``;
* by structure — for languages we do not list: a handful of distinct
  subjects that map one-to-one onto busy states, reused across many
  different events, with no location and no description anywhere.

Nothing here touches Flask or the database; ``is_stale`` is a pure helper
the app calls with what it stored about earlier refreshes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from app.feeds import busywords
from app.feeds.catalogue import diagnostic
from app.feeds.types import BusyStatus, DetailLevel, Diagnostic, Occurrence, Severity

# Codes this module produces; any of them arriving as "parse diagnostics"
# (a caller diagnosing twice) is dropped and recomputed, never doubled.
OWN_CODES = frozenset(
    {
        "availability_only",
        "limited_details",
        "full_details",
        "private_events",
        "empty_calendar",
        "no_events_in_window",
    }
)

_LEVEL_CODES: dict[DetailLevel, str] = {
    "availability_only": "availability_only",
    "limited": "limited_details",
    "full": "full_details",
}

# Structural detection thresholds. Exchange has five busy states, so an
# availability-only feed never has more distinct subjects than that; asking
# for several distinct events that reuse them keeps a small calendar with a
# recurring "Standup" and a "Lunch" from being mistaken for one.
MIN_STRUCTURAL_EVENTS = 5
MAX_STATUS_SUBJECTS = 5
MAX_STATUS_SUBJECT_LENGTH = 40

_SEVERITY_RANK: dict[Severity, int] = {"info": 0, "warning": 1, "error": 2}


def diagnose(
    occurrences: list[Occurrence],
    *,
    event_count: int,
    parse_diagnostics: Sequence[Diagnostic] = (),
) -> tuple[DetailLevel, list[Diagnostic]]:
    """Detail level and every finding about one calendar.

    ``occurrences`` are the expanded instances inside the window,
    ``event_count`` the number of VEVENTs in the body (to tell "empty
    calendar" from "nothing in the window"), ``parse_diagnostics`` what the
    parse step reported. Returns the level and the parse findings followed
    by this step's own.
    """
    level = detect_detail_level(occurrences)
    found = cap_per_code([d for d in parse_diagnostics if d.code not in OWN_CODES])
    found.extend(_content_findings(occurrences, event_count, level))
    return level, found


# A hostile or badly broken feed can yield thousands of findings of one kind
# (10,000 nested BEGIN:VEVENT lines give 20,000 "skipped"); a person needs a
# few examples and the count, and the feed page must stay readable.
MAX_PER_CODE = 10


def cap_per_code(found: Sequence[Diagnostic], limit: int = MAX_PER_CODE) -> list[Diagnostic]:
    """At most ``limit`` findings per code, then one saying how many more there were."""
    kept: list[Diagnostic] = []
    seen: dict[str, int] = defaultdict(int)
    for finding in found:
        seen[finding.code] += 1
        if seen[finding.code] <= limit:
            kept.append(finding)
    for code, count in seen.items():
        if count > limit:
            first = next(d for d in kept if d.code == code)
            more = f"…and {count - limit} more findings like this one."
            kept.append(Diagnostic(code, first.severity, more))
    return kept


def _content_findings(
    occurrences: list[Occurrence], event_count: int, level: DetailLevel
) -> list[Diagnostic]:
    if event_count == 0:
        return [diagnostic("empty_calendar")]
    if not _visible(occurrences):
        return [diagnostic("no_events_in_window", count=event_count)]
    findings = [diagnostic(_LEVEL_CODES[level])] if level in _LEVEL_CODES else []
    private = count_private(occurrences)
    # In an availability-only feed nothing has a subject, so "private" says nothing new.
    if private and level != "availability_only":
        findings.append(diagnostic("private_events", count=private))
    return findings


def detect_detail_level(occurrences: Iterable[Occurrence]) -> DetailLevel:
    """How much the publisher shares: availability only, limited, full, or unknown.

    Cancelled instances are left out: Exchange keeps their subject even in
    feeds that otherwise carry only busy states. Private events are left out
    too, since they hide their subject whatever the publishing level.
    """
    visible = [o for o in _visible(occurrences) if not _is_private(o)]
    if not visible:
        return "unknown"
    if is_availability_only(visible):
        return "availability_only"
    if any(o.description.strip() for o in visible):
        return "full"
    return "limited"


def is_availability_only(occurrences: Sequence[Occurrence]) -> bool:
    """True when every subject is only a busy state (by word or by structure)."""
    if not occurrences or any(o.location.strip() or o.description.strip() for o in occurrences):
        return False
    return _all_busy_words(occurrences) or _busy_state_structure(occurrences)


def _all_busy_words(occurrences: Sequence[Occurrence]) -> bool:
    """Every subject is a listed busy word agreeing with the event's busy state."""
    for occurrence in occurrences:
        named = busywords.busy_status_of(occurrence.summary)
        if named is None:
            return False
        # A meeting called "Free" that blocks time is a real subject. Only "free or
        # not" is compared: without X-MICROSOFT-CDO-BUSYSTATUS the busy state comes
        # from TRANSP, which knows BUSY and FREE only ("Away" arrives as BUSY).
        if occurrence.busy_status is not None and (occurrence.busy_status == "FREE") != (
            named == "FREE"
        ):
            return False
    return True


def _busy_state_structure(occurrences: Sequence[Occurrence]) -> bool:
    """Subjects move in lock-step with the busy state, the way Exchange writes them."""
    subjects: dict[str, set[BusyStatus]] = defaultdict(set)
    statuses: dict[BusyStatus, set[str]] = defaultdict(set)
    uids: dict[str, set[str]] = defaultdict(set)
    for occurrence in occurrences:
        if len(occurrence.summary) > busywords.MAX_WORD_TEXT:
            return False  # no busy state; and not worth normalising
        subject = busywords.normalise(occurrence.summary)
        if occurrence.busy_status is None or not subject:
            return False
        subjects[subject].add(occurrence.busy_status)
        statuses[occurrence.busy_status].add(subject)
        uids[subject].add(occurrence.uid)
    distinct_events = len(set().union(*uids.values()))
    return (
        distinct_events >= MIN_STRUCTURAL_EVENTS
        and len(subjects) <= MAX_STATUS_SUBJECTS
        and all(len(s) <= MAX_STATUS_SUBJECT_LENGTH for s in subjects)
        and all(len(v) == 1 for v in subjects.values())
        and all(len(v) == 1 for v in statuses.values())
        # Real subjects differ between events; busy states repeat across them
        # (a recurring "Standup" is one event, however many times it occurs).
        and len(subjects) < distinct_events
        and max(len(v) for v in uids.values()) >= 3
    )


def count_private(occurrences: Iterable[Occurrence]) -> int:
    """How many non-cancelled occurrences hide their subject as private."""
    return sum(1 for o in _visible(occurrences) if _is_private(o))


def _is_private(occurrence: Occurrence) -> bool:
    return occurrence.private or busywords.is_private_subject(occurrence.summary)


def _visible(occurrences: Iterable[Occurrence]) -> list[Occurrence]:
    return [o for o in occurrences if o.status != "CANCELLED"]


def needs_fix(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when any finding is a warning or an error (something to act on)."""
    return any(_SEVERITY_RANK[d.severity] >= _SEVERITY_RANK["warning"] for d in diagnostics)


def is_stale(
    last_change_at: datetime | None,
    now: datetime,
    past_occurrence_count: int,
    days: int = 7,
) -> bool:
    """True when a calendar with past meetings has not changed for ``days`` days.

    A working calendar gains and moves meetings every week; one that holds
    meetings yet stays byte-for-byte the same for a week has most likely
    stopped being updated where it is published. An empty or never-changed
    calendar is not stale:
    there is nothing to compare. ``last_change_at`` and ``now`` must both be
    timezone-aware (or both naive).
    """
    if last_change_at is None or past_occurrence_count <= 0:
        return False
    return now - last_change_at >= timedelta(days=days)
