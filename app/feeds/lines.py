"""Content lines of an iCalendar body, read and repaired before icalendar sees them.

Working on text first lets the parser decode odd bodies, repair the
properties real publishers break, rewrite time zone ids, and decide which
events can touch a window — all without building icalendar objects for the
thousands of events a feed holds.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

# RFC 5545 folds with CRLF + one space or TAB; Outlook 2007 folds with a TAB.
# Blank lines before a continuation are dropped too, as icalendar does.
_FOLD = re.compile(r"(?:\n)+[ \t]")
_STRICT_DURATION = re.compile(r"^[+-]?P(?:\d+W|(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)$")
# Lenient: also "-PT1W1D2H3M4S" (node-ical's bad_custom_ms_tz fixture), with
# weeks and days inside the time part.
_LENIENT_DURATION = re.compile(
    r"^(?P<sign>[+-])?PT?(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"T?(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?$"
)


def decode_body(data: bytes) -> str:
    """Text of a feed body: BOM-aware UTF-8/UTF-16, else line by line UTF-8 or Windows-1252.

    NUL characters are dropped: iCalendar allows no control characters but
    TAB, and PostgreSQL refuses to store a NUL in a text column — one stray
    NUL would otherwise fail every refresh of the feed.
    """
    return _decode(data).replace("\x00", "")


def _decode(data: bytes) -> str:
    """The decoding rules of ``decode_body``.

    Older Outlook exports and some gateways send Windows-1252 without saying
    so; a strict UTF-8 decode would lose the whole feed over one "é". The
    reverse matters as much: a UTF-8 feed with one damaged line (an event
    pasted from elsewhere, a cut character) must not turn every other
    accented subject into mojibake — that would mark each tracked one as
    renamed — so when the body as a whole is not UTF-8, each line is judged
    on its own (Windows-1252 text almost never forms valid UTF-8 sequences).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # RFC 5545 folds at 75 octets, which may fall inside a multi-byte
    # character: join folded lines before judging the bytes.
    data = _BYTE_FOLD.sub(b"", data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "\n".join(_decode_line(line) for line in data.split(b"\n"))


_BYTE_FOLD = re.compile(rb"(?:\r\n|\r|\n)+[ \t]")


def _decode_line(line: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return line.decode(encoding)
        except UnicodeDecodeError:
            continue
    return line.decode("latin-1")


def unfold(text: str) -> list[str]:
    """Unfolded content lines; CRLF, LF-only and CR-only bodies alike."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip()
    return [line for line in _FOLD.sub("", text).split("\n") if line.strip()]


@dataclass(slots=True)
class ContentLine:
    """One property: ``name`` upper-cased, ``params`` in order, raw ``value``."""

    name: str
    params: list[tuple[str, str]]
    value: str

    def param(self, key: str) -> str | None:
        for name, value in self.params:
            if name == key:
                return value
        return None

    def without(self, key: str) -> ContentLine:
        return ContentLine(self.name, [p for p in self.params if p[0] != key], self.value)

    def with_param(self, key: str, value: str) -> ContentLine:
        params = [(k, value if k == key else v) for k, v in self.params]
        if key not in (k for k, _ in params):
            params.append((key, value))
        return ContentLine(self.name, params, self.value)

    def render(self) -> str:
        head = self.name + "".join(f";{k}={_quote(v)}" for k, v in self.params)
        return f"{head}:{self.value}"


def _quote(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ":;,") else value


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    if '"' not in text:
        return text.split(separator)
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _value_colon(line: str) -> int:
    """Index of the colon that starts the value (-1 if none outside quotes)."""
    colon = line.find(":")
    if colon < 0 or '"' not in line[:colon]:
        return colon
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return index
    return -1


def parse_line(line: str) -> ContentLine | None:
    """Split a content line; None when it has no value part at all."""
    colon = _value_colon(line)
    if colon < 0:
        return None
    head, value = line[:colon], line[colon + 1 :]
    name, *raw_params = _split_outside_quotes(head, ";") if ";" in head else [head]
    params = []
    for raw in raw_params:
        key, _, param_value = raw.partition("=")
        params.append((key.strip().upper(), param_value.strip().strip('"')))
    return ContentLine(name.strip().upper(), params, value)


# A value swallowed by a quoted parameter: Exchange wrote
#   DTSTART;TZID="W. Europe Standard Time:20200609T090000"
# (node-ical's ms_timezones fixture). The value is the part after the last colon.
_SWALLOWED_VALUE = re.compile(r'^(?P<head>[^"]*?)="(?P<param>[^"]*):(?P<value>[0-9TZ]+)"\s*$')


def repair_swallowed_value(line: str) -> str | None:
    """The line with its value moved out of the quotes, or None if not that case."""
    match = _SWALLOWED_VALUE.match(line)
    if match is None:
        return None
    return f'{match["head"]}="{match["param"]}":{match["value"]}'


@dataclass(frozen=True, slots=True)
class Duration:
    negative: bool
    seconds: int
    valid: bool  # RFC 5545 form (weeks never combined with days or times)

    def render(self) -> str:
        days, rest = divmod(self.seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, seconds = divmod(rest, 60)
        time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
        text = "P" + (f"{days}D" if days or not time else "") + (f"T{time}" if time else "")
        return ("-" if self.negative else "") + text


def parse_duration(value: str) -> Duration | None:
    """Read a DURATION, also the non-RFC "-PT1W1D2H3M4S" some producers write."""
    text = value.strip().upper()
    match = _LENIENT_DURATION.match(text)
    if match is None or not any(match[k] for k in ("w", "d", "h", "m", "s")):
        return None
    weeks, days = int(match["w"] or 0), int(match["d"] or 0)
    hours, minutes, secs = (int(match[k] or 0) for k in ("h", "m", "s"))
    total = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + secs
    return Duration(match["sign"] == "-", total, _STRICT_DURATION.match(text) is not None)
