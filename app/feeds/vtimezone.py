"""Read a VTIMEZONE's current rules and find the IANA zone that has them.

Exchange writes its zones as VTIMEZONEs whose STANDARD/DAYLIGHT rules start
in 1601. Handing those to icalendar is correct but slow (dateutil walks the
rules forward from 1601 on every offset lookup) and unsafe (icalendar caches
zones by TZID for the whole process, and Exchange calls many different zones
"Customized Time Zone"). So the parser compares each VTIMEZONE's offsets over
the current years with IANA zones and, when one agrees, uses that instead.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from app.feeds.tzmap import candidate_zones

# The years compared. Recent and near-future years are what a time tracker
# shows; older rule changes (US 2007, …) do not matter for matching.
_FIRST_YEAR = 2025
_LAST_YEAR = 2026
_SAMPLES = tuple(
    datetime(_FIRST_YEAR, 1, 1, 12, tzinfo=UTC) + timedelta(days=day)
    for day in range((datetime(_LAST_YEAR + 1, 1, 1) - datetime(_FIRST_YEAR, 1, 1)).days)
)
_OFFSET = re.compile(r"^([+-])(\d{2})(\d{2})(\d{2})?$")


@dataclass(frozen=True, slots=True)
class Transition:
    at: datetime  # UTC instant
    offset_from: int  # seconds
    offset_to: int  # seconds


@dataclass(frozen=True, slots=True)
class ZoneRules:
    """The transitions of one VTIMEZONE that matter for matching."""

    transitions: tuple[Transition, ...]
    consistent: bool  # every transition starts from the previous one's offset

    def offset_at(self, instant: datetime) -> int:
        """UTC offset in seconds at ``instant`` (aware)."""
        index = bisect.bisect_right([t.at for t in self.transitions], instant)
        if index == 0:
            return self.transitions[0].offset_from
        return self.transitions[index - 1].offset_to

    def signature(self) -> tuple[int, ...]:
        instants = [t.at for t in self.transitions]
        first_from = self.transitions[0].offset_from
        result = []
        for sample in _SAMPLES:
            index = bisect.bisect_right(instants, sample)
            result.append(self.transitions[index - 1].offset_to if index else first_from)
        return tuple(result)


def _parse_offset(value: str) -> int | None:
    match = _OFFSET.match(value.strip())
    if match is None:
        return None
    seconds = int(match[2]) * 3600 + int(match[3]) * 60 + int(match[4] or 0)
    return -seconds if match[1] == "-" else seconds


def _parse_local(value: str) -> datetime | None:
    try:
        return datetime.strptime(value.strip().rstrip("Z")[:15], "%Y%m%dT%H%M%S")
    except ValueError:
        return None


def _split(line: str) -> tuple[str, str]:
    head, _, value = line.partition(":")
    return head.split(";", 1)[0].upper(), value


def _observances(lines: list[str]) -> list[dict[str, list[str]]]:
    """The STANDARD/DAYLIGHT sub-blocks as {property: [values]}."""
    found: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] | None = None
    for line in lines:
        name, value = _split(line)
        if name == "BEGIN" and value.strip().upper() in ("STANDARD", "DAYLIGHT"):
            current = {}
        elif name == "END" and current is not None:
            found.append(current)
            current = None
        elif current is not None:
            current.setdefault(name, []).append(value)
    return found


def _local_starts(props: dict[str, list[str]], start: datetime) -> list[datetime]:
    """Local wall-clock times at which this observance begins."""
    window_start = datetime(_FIRST_YEAR - 1, 1, 1)
    window_end = datetime(_LAST_YEAR + 1, 12, 31)
    if "RRULE" in props:
        # UNTIL is written in UTC; a naive DTSTART needs a naive UNTIL.
        rule = re.sub(r"(UNTIL=\d{8}T\d{6})Z", r"\1", props["RRULE"][0])
        recurrence = rrulestr(rule, dtstart=_skip_ahead(rule, start))
        return [start, *recurrence.between(window_start, window_end, inc=True)]
    starts = [start]
    for rdates in props.get("RDATE", []):
        starts += [d for d in (_parse_local(v) for v in rdates.split(",")) if d is not None]
    return starts


def _skip_ahead(rule: str, start: datetime) -> datetime:
    """Move a plain yearly rule's 1601 start to just before the compared
    years: the same transitions, without walking four centuries."""
    upper = rule.upper()
    plain_yearly = "FREQ=YEARLY" in upper and "COUNT=" not in upper
    if plain_yearly and re.search(r"INTERVAL=(?!1\b)", upper) is None:
        return start.replace(year=max(start.year, _FIRST_YEAR - 2), day=min(start.day, 28))
    return start


def rules_from_lines(lines: list[str]) -> ZoneRules | None:
    """Read the VTIMEZONE block (unfolded lines); None when unreadable."""
    transitions: list[Transition] = []
    for props in _observances(lines):
        start = _parse_local(props.get("DTSTART", [""])[0])
        offset_from = _parse_offset(props.get("TZOFFSETFROM", [""])[0])
        offset_to = _parse_offset(props.get("TZOFFSETTO", [""])[0])
        if start is None or offset_from is None or offset_to is None:
            return None
        try:
            local_starts = _local_starts(props, start)
        except (ValueError, TypeError, IndexError, OverflowError):
            return None
        for local in local_starts:
            # A DTSTART in year 1 (eM Client writes 00010101) cannot move back.
            at = local if local.year < 2 else local - timedelta(seconds=offset_from)
            transitions.append(Transition(at.replace(tzinfo=UTC), offset_from, offset_to))
    if not transitions:
        return None
    transitions.sort(key=lambda t: t.at)
    return ZoneRules(tuple(transitions), _is_consistent(transitions))


def _is_consistent(transitions: list[Transition]) -> bool:
    """False when a transition starts from an offset the previous one did not
    end in — a hand-edited or broken VTIMEZONE (see khal's
    tz_windows_format fixture: CET names with New Zealand offsets)."""
    recent = [t for t in transitions if t.at.year >= _FIRST_YEAR - 1]
    chain = recent if len(recent) >= 2 else transitions
    return all(a.offset_to == b.offset_from for a, b in pairwise(chain) if a.at != b.at)


@cache
def zone_signature(zone: str) -> tuple[int, ...]:
    """Offsets of an IANA zone at the sample instants (seconds)."""
    tz = ZoneInfo(zone)
    result = []
    for sample in _SAMPLES:
        offset = sample.astimezone(tz).utcoffset()
        result.append(int(offset.total_seconds()) if offset is not None else 0)
    return tuple(result)


def rules_agree(rules: ZoneRules, zone: str) -> bool:
    """Whether the VTIMEZONE and the IANA zone give the same offsets now."""
    return rules.signature() == zone_signature(zone)


def match_zone(rules: ZoneRules) -> str | None:
    """The first candidate IANA zone whose current offsets equal the rules'."""
    signature = rules.signature()
    # Mid-January and mid-July first: a cheap filter before the full year.
    probes = (signature[14], signature[195])
    for zone in candidate_zones():
        if _probe(zone) == probes and zone_signature(zone) == signature:
            return zone
    return None


@cache
def _probe(zone: str) -> tuple[int, int]:
    tz = ZoneInfo(zone)
    offsets = (_SAMPLES[14].astimezone(tz).utcoffset(), _SAMPLES[195].astimezone(tz).utcoffset())
    return (
        int(offsets[0].total_seconds()) if offsets[0] is not None else 0,
        int(offsets[1].total_seconds()) if offsets[1] is not None else 0,
    )
