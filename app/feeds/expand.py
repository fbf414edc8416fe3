"""Expand a parsed feed into the occurrences that overlap a window.

Only the UID groups whose text bounds can touch the window are parsed by
icalendar (once per feed and default zone, then cached on the ParsedFeed);
recurring-ical-events expands them. A group that cannot be read or expanded
is dropped alone and reported as ``series_skipped``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar, Event

from app.feeds.events import EventBlock, parse_basic
from app.feeds.occurrence import to_occurrence
from app.feeds.parse import ParsedFeed
from app.feeds.single import is_plain_single, single_occurrence
from app.feeds.types import Diagnostic, Occurrence

# Text bounds are wall-clock values of unknown offset: widen by more than
# the largest UTC offset (+14 h) on both sides.
_MARGIN = timedelta(days=2)
_MARKER = "X-TIMEPULSE-BLOCK"
_UNTIL = re.compile(r"UNTIL=(\d{8}T\d{6}Z?)", re.IGNORECASE)


def expand_feed(
    parsed: ParsedFeed, start: datetime, end: datetime, *, default_tz: ZoneInfo
) -> tuple[list[Occurrence], list[Diagnostic]]:
    """Occurrences overlapping ``[start, end)`` and the series that were skipped.

    Floating times are read in the feed's X-WR-TIMEZONE, else ``default_tz``;
    all-day occurrences are compared at 00:00 of their dates in ``default_tz``.
    Cancelled instances are included (status "CANCELLED").
    """
    floating_tz = ZoneInfo(parsed.calendar_zone) if parsed.calendar_zone else default_tz
    groups = [g for g in parsed.groups.values() if _may_touch(g, start, end)]
    found, rest = _singles(groups, floating_tz)
    components, diagnostics = _components(parsed, rest, default_tz)
    found += _run_query(
        parsed, components, start - _MARGIN, end + _MARGIN, floating_tz, diagnostics
    )
    window = [o for o in found if _overlaps(o, start, end, default_tz)]
    unique = {o.key: o for o in reversed(window)}  # first wins on a duplicate key
    ordered = sorted(unique.values(), key=lambda o: (_instant(o.start, default_tz), o.uid))
    return ordered, diagnostics


def _may_touch(group: list[EventBlock], start: datetime, end: datetime) -> bool:
    """Cheap test on text bounds; a group is kept whole (overrides with their series)."""
    low = start.astimezone(UTC).replace(tzinfo=None) - _MARGIN
    high = end.astimezone(UTC).replace(tzinfo=None) + _MARGIN
    return any(
        (block.last is None or block.last >= low) and (block.first is None or block.first < high)
        for block in group
    )


def _singles(
    groups: list[list[EventBlock]], floating_tz: ZoneInfo
) -> tuple[list[Occurrence], list[list[EventBlock]]]:
    """Occurrences of plain single events, and the groups left for icalendar."""
    found: list[Occurrence] = []
    rest: list[list[EventBlock]] = []
    for group in groups:
        occurrence = single_occurrence(group[0], floating_tz) if is_plain_single(group) else None
        if occurrence is None:
            rest.append(group)
        else:
            found.append(occurrence)
    return found, rest


def _components(
    parsed: ParsedFeed, groups: list[list[EventBlock]], default_tz: ZoneInfo
) -> tuple[dict[str, list[Event]], list[Diagnostic]]:
    """icalendar components per UID, parsed once per default zone."""
    diagnostics: list[Diagnostic] = []
    missing = [g for g in groups if (default_tz.key, g[0].uid) not in parsed.cache]
    if missing:
        parsed_now = _parse_groups(parsed, missing, default_tz, diagnostics)
        for uid, events in parsed_now.items():
            parsed.cache[(default_tz.key, uid)] = list(events)
    result: dict[str, list[Event]] = {}
    for group in groups:
        cached = parsed.cache.get((default_tz.key, group[0].uid))
        if cached:
            result[group[0].uid] = cached
    return result, diagnostics


def _parse_groups(
    parsed: ParsedFeed,
    groups: list[list[EventBlock]],
    default_tz: ZoneInfo,
    diagnostics: list[Diagnostic],
) -> dict[str, list[Event]]:
    """Parse all groups in one icalendar call; on failure, group by group."""
    texts = {g[0].uid: _group_text(parsed, g, default_tz) for g in groups}
    try:
        return _events_by_uid(_from_ical(parsed, texts.values()))
    except ValueError:
        pass
    result: dict[str, list[Event]] = {}
    for group in groups:
        try:
            result.update(_events_by_uid(_from_ical(parsed, [texts[group[0].uid]])))
        except ValueError as error:
            diagnostics.append(_skipped(group, error))
            result[group[0].uid] = []
    return result


def _from_ical(parsed: ParsedFeed, event_texts: Iterable[str]) -> Calendar:
    body = "\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            *("\n".join(block) for block in parsed.vtimezones),
            *event_texts,
            "END:VCALENDAR",
        ]
    )
    with warnings.catch_warnings():
        # icalendar warns about what it repairs; the feed's own diagnostics
        # already report what we repaired, and the rest is its business.
        warnings.simplefilter("ignore")
        return Calendar.from_ical(body)


def _events_by_uid(calendar: Calendar) -> dict[str, list[Event]]:
    result: dict[str, list[Event]] = {}
    for component in calendar.walk("VEVENT"):
        if isinstance(component, Event):
            result.setdefault(str(component.get("UID", "")), []).append(component)
    return result


def _group_text(parsed: ParsedFeed, group: list[EventBlock], default_tz: ZoneInfo) -> str:
    """The group's VEVENTs, each marked with its index so that an expanded
    instance finds the block (and texts) it came from."""
    zone = _all_day_zone(parsed, group)
    texts = []
    for index, block in enumerate(group):
        lines = _fix_all_day_until(block, zone, default_tz) if block.all_day else block.lines
        texts.append("\n".join([lines[0], f"{_MARKER}:{index}", *lines[1:]]))
    return "\n".join(texts)


def _all_day_zone(parsed: ParsedFeed, group: list[EventBlock]) -> ZoneInfo | None:
    """The zone an all-day series' UNTIL was computed in, when the feed says.

    The calendar's X-WR-TIMEZONE, else a zone the series itself names (e.g.
    on an override's RECURRENCE-ID), else the one zone the feed defines.
    """
    named = sorted(set().union(*(b.tzids for b in group)) - {"UTC"})
    name = parsed.calendar_zone or (named[0] if len(named) == 1 else None) or parsed.feed_zone
    return ZoneInfo(name) if name else None


def _fix_all_day_until(block: EventBlock, zone: ZoneInfo | None, default_tz: ZoneInfo) -> list[str]:
    """Make an all-day series' date-time UNTIL a DATE, keeping the last day.

    Exchange ends all-day series with UNTIL at the UTC instant of local
    midnight of the last day (UNTIL=20210701T220000Z for a series whose last
    day is 2021-07-02 in Berlin); compared with DATE starts, dateutil drops
    that last day. The local date of the instant is the last day.
    """
    return [
        _until_as_date(line, zone, default_tz) if line[:6].upper() == "RRULE:" else line
        for line in block.lines
    ]


def _until_as_date(line: str, zone: ZoneInfo | None, default_tz: ZoneInfo) -> str:
    match = _UNTIL.search(line)
    value = parse_basic(match[1]) if match else None
    if match is None or value is None:
        return line
    if match[1].upper().endswith("Z"):
        value = _local_day(value.replace(tzinfo=UTC), zone, default_tz)
    return line[: match.start(1)] + value.strftime("%Y%m%d") + line[match.end(1) :]


def _local_day(instant: datetime, zone: ZoneInfo | None, default_tz: ZoneInfo) -> datetime:
    """The local date an UNTIL instant falls on.

    With no zone in the feed, an instant on a quarter hour is taken as some
    zone's midnight: the nearest UTC midnight gives its date for every
    offset from -11:45 to +12:00 (22:00Z is midnight in Berlin, the next
    day; 05:00Z is midnight in New York, the same day). Anything else (e.g.
    23:59:59Z) is read in the reader's zone.
    """
    if zone is not None:
        return instant.astimezone(zone)
    if instant.second == 0 and instant.minute % 15 == 0:
        return instant + timedelta(hours=12) if instant.hour >= 12 else instant
    return instant.astimezone(default_tz)


def _run_query(
    parsed: ParsedFeed,
    components: dict[str, list[Event]],
    start: datetime,
    end: datetime,
    floating_tz: ZoneInfo,
    diagnostics: list[Diagnostic],
) -> list[Occurrence]:
    """Expand every group in one query; isolate the bad ones if that fails."""
    try:
        return _expand(parsed, components, start, end, floating_tz)
    except Exception:  # noqa: BLE001, S110 - any library error: retried per group below
        pass
    found: list[Occurrence] = []
    for uid, events in components.items():
        try:
            found += _expand(parsed, {uid: events}, start, end, floating_tz)
        except Exception as error:  # noqa: BLE001 - reported as series_skipped
            diagnostics.append(_skipped(parsed.groups[uid], error))
    return found


def _expand(
    parsed: ParsedFeed,
    components: dict[str, list[Event]],
    start: datetime,
    end: datetime,
    floating_tz: ZoneInfo,
) -> list[Occurrence]:
    calendar = Calendar()
    for events in components.values():
        for event in events:
            calendar.add_component(event)
    series = {uid: _series_info(events) for uid, events in components.items()}
    sources = {
        (uid, int(event.get(_MARKER, 0))): event
        for uid, events in components.items()
        for event in events
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        instances = recurring_ical_events.of(calendar).between(start, end)
    result = []
    for instance in instances:
        uid = str(instance.get("UID", ""))
        index = int(instance.get(_MARKER, 0))
        block, source = parsed.groups[uid][index], sources[(uid, index)]
        recurring, all_day = series.get(uid, (False, False))
        result.append(to_occurrence(instance, block, source, recurring, all_day, floating_tz))
    return result


def _series_info(events: list[Event]) -> tuple[bool, bool]:
    """(is a series, series is all-day) for one UID's components."""
    recurring = len(events) > 1 or any(
        k in e for e in events for k in ("RRULE", "RDATE", "RECURRENCE-ID")
    )
    masters = [e for e in events if "RECURRENCE-ID" not in e] or events
    start: Any = masters[0].get("DTSTART")
    all_day = start is not None and not isinstance(getattr(start, "dt", None), datetime)
    return recurring, all_day


def _skipped(group: list[EventBlock], error: Exception) -> Diagnostic:
    """A series left out; named by its subject so the user can find it."""
    name = next((b.summary for b in group if b.summary), "") or group[0].uid
    return Diagnostic(
        "series_skipped",
        "warning",
        f"Event {name!r} was left out: it could not be read ({error}).",
        group[0].uid,
    )


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), tz)


def _overlaps(occurrence: Occurrence, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    begin = _instant(occurrence.start, tz)
    finish = _instant(occurrence.end, tz)
    if finish <= begin:
        return start <= begin < end
    return begin < end and finish > start
