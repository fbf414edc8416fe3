"""Resolve one feed's TZIDs to IANA zones, or to per-feed isolated VTIMEZONEs.

Each feed gets its own ``FeedZones``: nothing learned from one feed's
VTIMEZONEs leaks into another. That matters because icalendar caches
VTIMEZONE definitions by TZID for the whole process
(``icalendar.timezone.tzp.TZP.cache_timezone_component``), and Exchange
names many different zones "Customized Time Zone": the first feed parsed
would decide the times of every later one. A VTIMEZONE we cannot replace by
an IANA zone is therefore renamed to an id derived from its own content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from app.feeds.types import Diagnostic, Severity, TimezoneMapping
from app.feeds.tzmap import normalise_tzid, zone_from_name
from app.feeds.vtimezone import match_zone, rules_agree, rules_from_lines


@dataclass(frozen=True, slots=True)
class ZoneChoice:
    """What a TZID becomes: an IANA zone, an isolated VTIMEZONE id, or floating."""

    tzid: str | None  # value to write in TZID=…; None: drop it (floating)
    mapping: TimezoneMapping
    diagnostic: Diagnostic | None = None
    vtimezone: list[str] | None = None  # renamed block, for isolated zones


@dataclass(slots=True)
class FeedZones:
    """The VTIMEZONE blocks of one feed and the choices made for its TZIDs."""

    blocks: dict[str, list[str]]  # normalised TZID → unfolded VTIMEZONE lines
    choices: dict[str, ZoneChoice] = field(default_factory=dict)

    def resolve(self, raw_tzid: str) -> ZoneChoice:
        """Choice for a TZID as written in a property (memoised per feed)."""
        name = normalise_tzid(raw_tzid)
        choice = self.choices.get(name)
        if choice is None:
            choice = _choose(name, self.blocks.get(name))
            self.choices[name] = choice
        return choice

    def isolated_blocks(self) -> list[list[str]]:
        return [c.vtimezone for c in self.choices.values() if c.vtimezone is not None]

    def single_zone(self) -> str | None:
        """The IANA zone when every VTIMEZONE of the feed names the same one."""
        zones = set()
        for name in self.blocks:
            found = zone_from_name(name)
            if found is not None and found[0] not in ("UTC", "Etc/UTC", "GMT"):
                zones.add(found[0])
        return zones.pop() if len(zones) == 1 else None


def _choose(name: str, block: list[str] | None) -> ZoneChoice:
    by_name = zone_from_name(name)
    if block is None:
        return _without_vtimezone(name, by_name)
    if by_name is not None and by_name[1] == "iana":
        # An IANA id wins over its VTIMEZONE, as icalendar itself does.
        return ZoneChoice(by_name[0], TimezoneMapping(name, by_name[0], "iana"))
    rules = rules_from_lines(block)
    if by_name is not None:
        zone, how = by_name
        if rules is None or rules_agree(rules, zone):
            return ZoneChoice(zone, TimezoneMapping(name, zone, how))  # type: ignore[arg-type]
        if not rules.consistent:
            return ZoneChoice(
                zone,
                TimezoneMapping(name, zone, "guessed"),
                _diagnostic(
                    "timezone_guessed",
                    "warning",
                    f"The time zone definition for {name!r} contradicts itself; "
                    f"used {zone}, which its name says.",
                ),
            )
    matched = match_zone(rules) if rules is not None and rules.consistent else None
    if matched is not None:
        return ZoneChoice(
            matched,
            TimezoneMapping(name, matched, "guessed"),
            _diagnostic(
                "timezone_guessed",
                "info",
                f"Time zone {name!r} has the rules of {matched} today; used {matched}.",
            ),
        )
    if rules is not None:
        return _isolated(name, block)
    return _unknown(name)


def _without_vtimezone(name: str, by_name: tuple[str, str] | None) -> ZoneChoice:
    """A TZID the feed never defines: trust its name, else treat as floating."""
    if by_name is None:
        return _unknown(name)
    zone, how = by_name
    mapping = TimezoneMapping(name, zone, how)  # type: ignore[arg-type]
    if how == "iana":
        return ZoneChoice(zone, mapping)
    return ZoneChoice(
        zone,
        mapping,
        _diagnostic(
            "timezone_guessed",
            "info",
            f"Time zone {name!r} is not defined in the feed; used {zone} by its name.",
        ),
    )


def _isolated(name: str, block: list[str]) -> ZoneChoice:
    """Keep the VTIMEZONE, under an id unique to its content (see module doc)."""
    digest = hashlib.sha256("\n".join(block).encode()).hexdigest()[:16]
    tzid = f"timepulse-{digest}"
    renamed = [f"TZID:{tzid}" if line.upper().startswith("TZID") else line for line in block]
    return ZoneChoice(tzid, TimezoneMapping(name, None, "vtimezone"), vtimezone=renamed)


def _unknown(name: str) -> ZoneChoice:
    return ZoneChoice(
        None,
        TimezoneMapping(name, None, "unknown"),
        _diagnostic(
            "timezone_unknown",
            "warning",
            f"Unknown time zone {name!r}; its times are read in the calendar's default zone.",
        ),
        None,
    )


def _diagnostic(code: str, severity: Severity, message: str) -> Diagnostic:
    return Diagnostic(code, severity, message)
