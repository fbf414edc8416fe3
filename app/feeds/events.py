"""One VEVENT's text: repaired, re-zoned, reduced, and bounded in time.

icalendar is slow on long TEXT values (it scans every character of every
line), and a published Exchange event carries a long DESCRIPTION and dozens of
X-MICROSOFT-* lines the engine never reads. So only the properties that
decide *when* an event happens go on to icalendar (UID, DTSTART, DTEND,
DURATION, RRULE, RDATE, EXDATE, RECURRENCE-ID); the texts a user sees are
kept here, still escaped, and unescaped when an occurrence is built.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.feeds.lines import ContentLine, parse_duration, parse_line, repair_swallowed_value
from app.feeds.types import Diagnostic
from app.feeds.zones import FeedZones

_DATE_VALUE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})(Z?))?")
_NAME = re.compile(r"[A-Za-z0-9-]+")
# Longest span one period of a rule can take; COUNT bounds multiply it.
_PERIOD = {
    "SECONDLY": timedelta(seconds=1),
    "MINUTELY": timedelta(minutes=1),
    "HOURLY": timedelta(hours=1),
    "DAILY": timedelta(days=1),
    "WEEKLY": timedelta(days=7),
    "MONTHLY": timedelta(days=31),
    "YEARLY": timedelta(days=366),
}
# Handed to icalendar / recurring-ical-events.
TIME_PROPERTIES = frozenset(
    {"UID", "DTSTART", "DTEND", "DURATION", "RRULE", "EXRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}
)
_DATE_PROPERTIES = frozenset({"DTSTART", "DTEND", "RDATE", "EXDATE", "RECURRENCE-ID"})
# Kept as text for the occurrence (first value wins).
TEXT_PROPERTIES = frozenset(
    {
        "SUMMARY",
        "LOCATION",
        "DESCRIPTION",
        "ORGANIZER",
        "CLASS",
        "TRANSP",
        "STATUS",
        "X-MICROSOFT-CDO-BUSYSTATUS",
    }
)


@dataclass(slots=True)
class EventBlock:
    """One VEVENT as cleaned text plus what the window filter needs.

    ``first``/``last`` bound the instants its occurrences can cover, as naive
    wall-clock values (a day of margin absorbs the unknown UTC offset); None
    means unbounded or unknown, and such an event is always parsed.
    """

    uid: str
    lines: list[str]
    first: datetime | None
    last: datetime | None
    all_day: bool = False
    recurring: bool = False  # RRULE or RDATE
    override: bool = False  # RECURRENCE-ID
    tzids: set[str] = field(default_factory=set)  # IANA zones its lines use
    # TEXT_PROPERTIES as raw lines: parsed only for events that are shown.
    text_lines: dict[str, str] = field(default_factory=dict)
    _texts: dict[str, ContentLine] | None = None

    @property
    def texts(self) -> dict[str, ContentLine]:
        if self._texts is None:
            parsed = ((name, parse_line(line)) for name, line in self.text_lines.items())
            self._texts = {name: prop for name, prop in parsed if prop is not None}
        return self._texts

    @property
    def summary(self) -> str:
        prop = self.texts.get("SUMMARY")
        return unescape_text(prop.value) if prop is not None else ""


def clean_events(
    events: list[list[str]], zones: FeedZones, diagnostics: list[Diagnostic]
) -> list[EventBlock]:
    synthetic: dict[str, int] = {}  # generated UIDs seen, to keep them distinct
    return [_clean_event(lines, zones, diagnostics, synthetic) for lines in events]


@dataclass(slots=True)
class _EventFacts:
    uid: str | None = None
    dtstart: ContentLine | None = None
    dtend: ContentLine | None = None
    duration: ContentLine | None = None
    rrule: ContentLine | None = None
    rdate: bool = False
    recurrence_id: bool = False
    tzids: set[str] = field(default_factory=set)
    text_lines: dict[str, str] = field(default_factory=dict)


def _clean_event(
    lines: list[str],
    zones: FeedZones,
    diagnostics: list[Diagnostic],
    synthetic: dict[str, int],
) -> EventBlock:
    facts = _EventFacts()
    repairs: list[str] = []
    cleaned = _clean_lines(lines, facts, zones, repairs)
    if facts.uid is None:
        _give_uid(facts, cleaned, synthetic)
        repairs.append("it had no UID, so it got a stable generated one")
    name = _summary(facts) or facts.uid
    diagnostics.extend(
        Diagnostic("series_repaired", "info", f"Event {name!r}: {repair}.", facts.uid)
        for repair in repairs
    )
    return _block(facts, cleaned)


def _clean_lines(
    lines: list[str], facts: _EventFacts, zones: FeedZones, repairs: list[str]
) -> list[str]:
    """The time properties, cleaned; texts go to ``facts``; subcomponents are dropped."""
    cleaned: list[str] = []
    depth = 0
    for line in lines:
        upper = line[:6].upper()
        if upper.startswith(("BEGIN:", "END:")):
            depth += 1 if upper.startswith("BEGIN:") else -1
            if depth == 0 or (depth == 1 and upper.startswith("BEGIN:")):
                cleaned.append(line)
            continue
        if depth != 1:
            continue  # VALARM and other subcomponents: never shown
        name = _NAME.match(line)
        key = name[0].upper() if name else ""
        if key in TEXT_PROPERTIES:
            facts.text_lines.setdefault(key, line)
        elif key in TIME_PROPERTIES:
            cleaned.extend(_clean_property(line, facts, zones, repairs))
    return cleaned


def _give_uid(facts: _EventFacts, cleaned: list[str], synthetic: dict[str, int]) -> None:
    """A stable UID for an event without one, distinct within the feed."""
    uid = _synthetic_uid(facts)
    synthetic[uid] = synthetic.get(uid, 0) + 1
    facts.uid = uid if synthetic[uid] == 1 else f"{uid}-{synthetic[uid]}"
    cleaned.insert(1, f"UID:{facts.uid}")


def _clean_property(
    line: str, facts: _EventFacts, zones: FeedZones, repairs: list[str]
) -> Iterator[str]:
    """Yield the cleaned form of one event property (nothing to drop it)."""
    prop = original = parse_line(line)
    if prop is None:
        fixed = repair_swallowed_value(line)
        prop = parse_line(fixed) if fixed else None
        if prop is None:
            return  # a line without a value: not a property at all
        repairs.append(f"a value written inside quotes was moved out ({prop.name})")
    if prop.name in _DATE_PROPERTIES and ":" in prop.value and not prop.value[:1].isdigit():
        # An unquoted TZID holding a colon (TZID=tzone://Microsoft/Custom:2025…):
        # the value is what follows the last colon.
        prop = (
            parse_line(
                line[: line.rindex(":")].replace(";TZID=", ';TZID="', 1)
                + '"'
                + line[line.rindex(":") :]
            )
            or prop
        )
        repairs.append(f"its {prop.name} time zone id held a colon and was quoted")
    if prop.params and prop.param("TZID") is not None:
        prop = _rezone(prop, facts, zones)
    name = prop.name
    if name in ("RRULE", "EXRULE") and "\\" in prop.value:
        # Some exporters escape the rule's separators as if it were TEXT.
        prop = ContentLine(name, prop.params, prop.value.replace("\\;", ";").replace("\\,", ","))
        repairs.append(f"its {name} had escaped separators, which were unescaped")
    if name == "DURATION":
        prop = _clean_duration(prop, repairs)
        if prop is None:
            return
    _note(prop, facts)
    if name in TIME_PROPERTIES:
        yield line if prop is original else prop.render()


def _rezone(prop: ContentLine, facts: _EventFacts, zones: FeedZones) -> ContentLine:
    choice = zones.resolve(prop.param("TZID") or "")
    if choice.tzid is None:
        return prop.without("TZID")
    if choice.mapping.zone is not None:
        facts.tzids.add(choice.mapping.zone)
    return prop.with_param("TZID", choice.tzid)


def _clean_duration(prop: ContentLine, repairs: list[str]) -> ContentLine | None:
    """Rewrite a non-RFC DURATION; drop a negative one (the event gets the
    default length: one day when all-day, none when timed)."""
    duration = parse_duration(prop.value)
    if duration is None:
        repairs.append(f"its DURATION {prop.value!r} could not be read and was ignored")
        return None
    if duration.negative:
        repairs.append(f"its negative DURATION {prop.value!r} was ignored")
        return None
    if not duration.valid:
        repairs.append(f"its DURATION {prop.value!r} was rewritten as {duration.render()}")
        return ContentLine(prop.name, prop.params, duration.render())
    return prop


def _note(prop: ContentLine, facts: _EventFacts) -> None:
    name = prop.name
    if name == "UID" and prop.value.strip():
        facts.uid = prop.value.strip()
    elif name == "DTSTART":
        facts.dtstart = prop
    elif name == "DTEND":
        facts.dtend = prop
    elif name == "DURATION":
        facts.duration = prop
    elif name == "RRULE":
        facts.rrule = prop
    elif name == "RDATE":
        facts.rdate = True
    elif name == "RECURRENCE-ID":
        facts.recurrence_id = True


def _summary(facts: _EventFacts) -> str:
    line = facts.text_lines.get("SUMMARY")
    prop = parse_line(line) if line else None
    return unescape_text(prop.value) if prop is not None else ""


def _synthetic_uid(facts: _EventFacts) -> str:
    """Stable across refreshes: derived from what identifies the event."""
    start = facts.dtstart.render() if facts.dtstart else ""
    digest = hashlib.sha256(f"{start}\x1f{_summary(facts)}".encode()).hexdigest()[:24]
    return f"timepulse-{digest}"


def _block(facts: _EventFacts, lines: list[str]) -> EventBlock:
    start = _local_value(facts.dtstart)
    all_day = facts.dtstart is not None and _is_date(facts.dtstart)
    first, last = _bounds(facts, start, all_day)
    return EventBlock(
        uid=facts.uid or "",
        lines=lines,
        first=first,
        last=last,
        all_day=all_day,
        recurring=facts.rrule is not None or facts.rdate,
        override=facts.recurrence_id,
        tzids=facts.tzids,
        text_lines=facts.text_lines,
    )


def _is_date(prop: ContentLine) -> bool:
    return prop.param("VALUE") == "DATE" or len(prop.value.strip()) == 8


def _local_value(prop: ContentLine | None) -> datetime | None:
    """Wall-clock value of a DATE or DATE-TIME property (first of a list)."""
    if prop is None:
        return None
    return parse_basic(prop.value)


def parse_basic(value: str) -> datetime | None:
    match = _DATE_VALUE.match(value.strip())
    if match is None:
        return None
    parts = [int(p) for p in match.groups()[:6] if p]
    try:
        return datetime(*parts)  # type: ignore[arg-type]
    except ValueError:
        return None


def _bounds(
    facts: _EventFacts, start: datetime | None, all_day: bool
) -> tuple[datetime | None, datetime | None]:
    if start is None or facts.rdate:
        return None, None  # RDATEs may lie anywhere: always parse
    length = _length(facts, start, all_day)
    if length is None:
        return start, None
    rule = dict(
        part.split("=", 1)
        for part in (facts.rrule.value.upper().split(";") if facts.rrule else ())
        if "=" in part
    )
    end = _rule_end(rule, start) if facts.rrule is not None else start
    try:
        return start, (end + length if end is not None else None)
    except OverflowError:  # ends after year 9999: unbounded
        return start, None


def _length(facts: _EventFacts, start: datetime, all_day: bool) -> timedelta | None:
    default = timedelta(days=1) if all_day else timedelta(0)
    if facts.dtend is not None:
        end = _local_value(facts.dtend)
        return max(end - start, default) if end is not None else None
    if facts.duration is not None:
        duration = parse_duration(facts.duration.value)
        return timedelta(seconds=duration.seconds) if duration is not None else None
    return default


def _rule_end(rule: dict[str, str], start: datetime) -> datetime | None:
    """Latest possible start of an RRULE's occurrences, None when unbounded."""
    if "UNTIL" in rule:
        return parse_basic(rule["UNTIL"])
    if "COUNT" not in rule or not rule["COUNT"].isdigit():
        return None
    period = _PERIOD.get(rule.get("FREQ", ""))
    if period is None:
        return None
    # BY* parts thin a rule out; assume the coarsest one and a factor of four
    # (a yearly rule on 29 February fires once in four years).
    if any(k in rule for k in ("BYMONTH", "BYYEARDAY", "BYWEEKNO", "BYSETPOS")):
        period = max(period, _PERIOD["YEARLY"])
    elif "BYMONTHDAY" in rule:
        period = max(period, _PERIOD["MONTHLY"])
    elif "BYDAY" in rule:
        period = max(period, _PERIOD["WEEKLY"])
    interval = int(rule["INTERVAL"]) if rule.get("INTERVAL", "").isdigit() else 1
    try:
        return start + period * (int(rule["COUNT"]) * max(interval, 1) * 4)
    except OverflowError:
        return None


def unescape_text(value: str) -> str:
    """RFC 5545 TEXT unescaping: \\n, \\, \\; and \\\\."""
    return re.sub(r"\\([\\;,nN])", _unescape_one, value).strip()


def _unescape_one(match: re.Match[str]) -> str:
    char = match[1]
    return "\n" if char in "nN" else char
