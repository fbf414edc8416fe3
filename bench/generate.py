"""Generate Exchange-like published calendars of any size, deterministically.

Modelled on what Exchange / Office 365 publishes: Windows-zone VTIMEZONEs
whose rules start in 1601, CRLF line endings with folding at 75 octets,
X-MICROSOFT-CDO-* properties, UIDs of the 040000008200E00074C5B7101A82E008…
kind, about 15 % recurring series (UNTIL, COUNT, EXDATE, moved and cancelled
overrides), all-day events whose series end with UNTIL at local midnight of
the last day in UTC, spread from three years back to one year ahead.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

# (Windows id, IANA zone used to compute UTC instants, VTIMEZONE body)
ZONES: tuple[tuple[str, str, str], ...] = (
    (
        "W. Europe Standard Time",
        "Europe/Berlin",
        "BEGIN:STANDARD\nDTSTART:16010101T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\n"
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=10\nEND:STANDARD\n"
        "BEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n"
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=-1SU;BYMONTH=3\nEND:DAYLIGHT",
    ),
    (
        "Pacific Standard Time",
        "America/Los_Angeles",
        "BEGIN:STANDARD\nDTSTART:16010101T020000\nTZOFFSETFROM:-0700\nTZOFFSETTO:-0800\n"
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11\nEND:STANDARD\n"
        "BEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:-0800\nTZOFFSETTO:-0700\n"
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3\nEND:DAYLIGHT",
    ),
    (
        "Customized Time Zone",
        "America/New_York",
        "BEGIN:STANDARD\nDTSTART:16010101T020000\nTZOFFSETFROM:-0400\nTZOFFSETTO:-0500\n"
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11\nEND:STANDARD\n"
        "BEGIN:DAYLIGHT\nDTSTART:16010101T020000\nTZOFFSETFROM:-0500\nTZOFFSETTO:-0400\n"
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3\nEND:DAYLIGHT",
    ),
)
_SUBJECTS = ("Stand-up", "1:1 with Alex", "Sprint review", "Customer call", "Design sync")
_PLACES = ("Room 4.12 Berlin", "Microsoft Teams Meeting", "", "Building 2, Floor 3")
_BUSY = ("BUSY", "BUSY", "BUSY", "TENTATIVE", "FREE", "OOF", "WORKINGELSEWHERE")
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """What to generate. ``today`` anchors the three-years-back/one-ahead span."""

    events: int
    today: date = date(2026, 11, 1)
    seed: int = 7
    recurring_share: float = 0.15
    # Exchange's all-day UNTIL (UTC instant of local midnight of the last
    # day). The plain libraries drop that last day; switch it off to compare
    # with them.
    exchange_all_day_until: bool = True
    description_size: int = 900


def window(spec: FeedSpec) -> tuple[datetime, datetime]:
    """The default import window: 90 days back to 30 days ahead, in UTC."""
    start = datetime.combine(spec.today - timedelta(days=90), datetime.min.time(), UTC)
    return start, start + timedelta(days=120)


def generate_feed(spec: FeedSpec) -> bytes:
    """The ICS body (CRLF, folded) for ``spec``."""
    rng = random.Random(spec.seed)
    lines = [
        "BEGIN:VCALENDAR",
        "METHOD:PUBLISH",
        "PRODID:Microsoft Exchange Server 2010",
        "VERSION:2.0",
        "X-WR-CALNAME:Calendar",
    ]
    for tzid, _, body in ZONES:
        lines += ["BEGIN:VTIMEZONE", f"TZID:{tzid}", *body.split("\n"), "END:VTIMEZONE"]
    for index in range(spec.events):
        lines += _event(rng, spec, index)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()


def _fold(line: str) -> str:
    if len(line) <= 75:
        return line
    parts = [line[:75]] + [line[i : i + 74] for i in range(75, len(line), 74)]
    return "\r\n ".join(parts)


def _uid(index: int) -> str:
    return f"040000008200E00074C5B7101A82E00800000000{index:016X}00000000000000001000000"


def _event(rng: random.Random, spec: FeedSpec, index: int) -> list[str]:
    span_days = (3 * 365) + 365
    day = spec.today - timedelta(days=3 * 365) + timedelta(days=rng.randrange(span_days))
    recurring = rng.random() < spec.recurring_share
    if rng.random() < 0.1:
        return _all_day(rng, spec, index, day, recurring)
    return _timed(rng, spec, index, day, recurring)


def _common(rng: random.Random, spec: FeedSpec, index: int) -> list[str]:
    words = " ".join(rng.choice(_SUBJECTS) for _ in range(spec.description_size // 10))
    return [
        f"UID:{_uid(index)}",
        f"SUMMARY;LANGUAGE=en-US:{rng.choice(_SUBJECTS)} #{index}",
        f"DESCRIPTION;LANGUAGE=en-US:{words[: spec.description_size]}\\n",
        f"LOCATION;LANGUAGE=en-US:{rng.choice(_PLACES)}",
        "ORGANIZER;CN=Alex Example:mailto:alex@example.com",
        "CLASS:PUBLIC",
        "PRIORITY:5",
        "DTSTAMP:20261101T080000Z",
        "TRANSP:OPAQUE",
        "STATUS:CONFIRMED",
        "SEQUENCE:0",
        f"X-MICROSOFT-CDO-BUSYSTATUS:{rng.choice(_BUSY)}",
        "X-MICROSOFT-CDO-INTENDEDSTATUS:BUSY",
        "X-MICROSOFT-CDO-IMPORTANCE:1",
        "X-MICROSOFT-DISALLOW-COUNTER:FALSE",
    ]


def _timed(rng: random.Random, spec: FeedSpec, index: int, day: date, recurring: bool) -> list[str]:
    tzid, zone, _ = rng.choice(ZONES)
    start = datetime.combine(day, datetime.min.time()) + timedelta(
        hours=rng.randrange(7, 18), minutes=rng.choice((0, 15, 30))
    )
    end = start + timedelta(minutes=rng.choice((15, 30, 60, 90)))
    head = [
        "BEGIN:VEVENT",
        *_common(rng, spec, index),
        f"DTSTART;TZID={tzid}:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={tzid}:{end:%Y%m%dT%H%M%S}",
        "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE",
    ]
    if not recurring:
        return [*head, "END:VEVENT"]
    weekday = _WEEKDAYS[start.weekday()]
    instances = rng.randrange(4, 60)
    if rng.random() < 0.5:
        last = start + timedelta(weeks=instances - 1)
        until = last.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        rule = f"RRULE:FREQ=WEEKLY;UNTIL={until:%Y%m%dT%H%M%SZ};INTERVAL=1;BYDAY={weekday};WKST=MO"
    else:
        rule = f"RRULE:FREQ=WEEKLY;COUNT={instances};INTERVAL=1;BYDAY={weekday};WKST=MO"
    skipped = start + timedelta(weeks=rng.randrange(1, instances))
    lines = [*head, rule, f"EXDATE;TZID={tzid}:{skipped:%Y%m%dT%H%M%S}", "END:VEVENT"]
    moved = start + timedelta(weeks=rng.randrange(1, instances))
    if moved != skipped:
        lines += _override(rng, spec, index, tzid, moved)
    return lines


def _override(
    rng: random.Random, spec: FeedSpec, index: int, tzid: str, original: datetime
) -> list[str]:
    """A moved (or cancelled) instance, as Exchange writes it: a second VEVENT."""
    new_start = original + timedelta(hours=rng.choice((1, 2, 24)))
    common = [
        line.replace("STATUS:CONFIRMED", "STATUS:CANCELLED") if rng.random() < 0.3 else line
        for line in _common(rng, spec, index)
    ]
    return [
        "BEGIN:VEVENT",
        *common,
        f"RECURRENCE-ID;TZID={tzid}:{original:%Y%m%dT%H%M%S}",
        f"DTSTART;TZID={tzid}:{new_start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID={tzid}:{new_start + timedelta(minutes=30):%Y%m%dT%H%M%S}",
        "END:VEVENT",
    ]


def _all_day(
    rng: random.Random, spec: FeedSpec, index: int, day: date, recurring: bool
) -> list[str]:
    length = rng.choice((1, 1, 1, 2, 5))
    lines = [
        "BEGIN:VEVENT",
        *_common(rng, spec, index),
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day + timedelta(days=length):%Y%m%d}",
        "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE",
    ]
    if recurring:
        count = rng.randrange(2, 20)
        if spec.exchange_all_day_until:
            last = datetime.combine(day + timedelta(weeks=count - 1), datetime.min.time())
            until = last.replace(tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)
            lines.append(f"RRULE:FREQ=WEEKLY;UNTIL={until:%Y%m%dT%H%M%SZ};INTERVAL=1")
        else:
            lines.append(f"RRULE:FREQ=WEEKLY;COUNT={count};INTERVAL=1")
    return [*lines, "END:VEVENT"]
