"""The body fingerprint: what decides, without parsing, that a feed did not change.

Two promises. A body that only got fresh DTSTAMP values (Office 365 restamps
them on every request) keeps its fingerprint. A body that changed in anything
else never does: a wrong "changed" only costs a parse, a wrong "unchanged"
would hide a moved meeting. The reference for both is ``_VOLATILE``, the
case-insensitive regex that defines which lines are volatile; fingerprints
stored before must stay valid for the bodies publishers actually send.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.feeds.engine import _DTSTAMP_LINE, body_fingerprint

# How fingerprints were first defined: every DTSTAMP line, any case, at a line start.
_VOLATILE = re.compile(rb"(?im)^" + _DTSTAMP_LINE)

HEAD = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:Microsoft Exchange Server 2010\n"
TAIL = "END:VCALENDAR\n"


def body(*events: str, newline: str = "\r\n") -> bytes:
    text = HEAD + "".join(f"BEGIN:VEVENT\n{e}\nEND:VEVENT\n" for e in events) + TAIL
    return text.replace("\n", newline).encode()


def event(
    stamp: str = "20250601T000000Z", start: str = "090000Z", summary: str = "Stand-up"
) -> str:
    return f"UID:e1\nSUMMARY:{summary}\nDTSTART:20250610T{start}\nDTSTAMP:{stamp}"


def reference(data: bytes) -> str:
    """What the fingerprint always was: SHA-256 of the body without any DTSTAMP line."""
    return hashlib.sha256(_VOLATILE.sub(b"", data)).hexdigest()


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_restamped_body_keeps_its_fingerprint(newline: str) -> None:
    one = body(event("20250601T000000Z"), event("20250601T000000Z"), newline=newline)
    two = body(event("20260102T101010Z"), event("20260102T101011Z"), newline=newline)
    assert body_fingerprint(one) == body_fingerprint(two)


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize(
    "changed",
    [
        event(start="093000Z"),
        event(summary="Stand-up (moved)"),
        event() + "\nLAST-MODIFIED:20250602T000000Z",
        event().replace("UID:e1", "UID:e2"),
    ],
    ids=["moved", "renamed", "last-modified", "other-uid"],
)
def test_any_other_change_changes_the_fingerprint(newline: str, changed: str) -> None:
    assert body_fingerprint(body(event(), newline=newline)) != body_fingerprint(
        body(changed, newline=newline)
    )


def test_line_endings_count_as_a_change() -> None:
    # Cheap to parse again, and a publisher switching line endings is rare.
    assert body_fingerprint(body(event(), newline="\n")) != body_fingerprint(body(event()))


@pytest.mark.parametrize(
    "stamp_line",
    [
        "DTSTAMP:20250601T000000Z",
        "DTSTAMP;VALUE=DATE-TIME:20250601T000000Z",
        "DTSTAMP:2025060\n 1T000000Z",  # folded
        "DTSTAMP:2025\n\t0601T00\n 0000Z",  # folded twice, with a tab
    ],
    ids=["plain", "with-parameter", "folded", "folded-twice"],
)
def test_every_form_of_a_dtstamp_line_is_left_out(stamp_line: str) -> None:
    without = body("UID:e1\nSUMMARY:Stand-up")
    with_stamp = body(f"UID:e1\n{stamp_line}\nSUMMARY:Stand-up")
    assert body_fingerprint(with_stamp) == body_fingerprint(without)


@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
def test_stored_fingerprints_stay_valid(newline: str) -> None:
    data = body(
        event(), event("20250601T000001Z"), "UID:x\nDTSTAMP:2025\n 0601T00Z", newline=newline
    )
    assert body_fingerprint(data) == reference(data)


def test_folded_lines_after_a_dtstamp_value_are_not_mistaken_for_data() -> None:
    # A continuation of the SUMMARY that happens to start with "DTSTAMP" is text.
    one = body("UID:e1\nSUMMARY:Stand-up and\n DTSTAMP:1 review")
    two = body("UID:e1\nSUMMARY:Stand-up and\n DTSTAMP:2 review")
    assert body_fingerprint(one) != body_fingerprint(two)


def test_text_after_a_lone_carriage_return_still_counts() -> None:
    one = b"BEGIN:VCALENDAR\r\nDTSTAMP:1\rSUMMARY:Stand-up\r\nEND:VCALENDAR\r\n"
    two = b"BEGIN:VCALENDAR\r\nDTSTAMP:1\rSUMMARY:Review\r\nEND:VCALENDAR\r\n"
    assert body_fingerprint(one) != body_fingerprint(two)


def test_a_property_merely_starting_with_dtstamp_counts() -> None:
    one = body("UID:e1\nDTSTAMPED:1")
    two = body("UID:e1\nDTSTAMPED:2")
    assert body_fingerprint(one) != body_fingerprint(two)


# --- the safety property, on bodies built from awkward lines ----------------------

LINES = st.sampled_from(
    [
        "DTSTAMP:20250601T000000Z",
        "DTSTAMP:20260101T121212Z",
        "DTSTAMP;TZID=UTC:20250601T000000",
        "dtstamp:20250601T000000Z",
        "DtStamp:20250601T000000Z",
        " continued",
        "\tcontinued",
        "DTSTAMPX:1",
        "SUMMARY:Stand-up",
        "SUMMARY:Stand-up (moved)",
        "DTSTART:20250610T090000Z",
        "X:DTSTAMP:1",
        "",
        "\r",
    ]
)
NEWLINES = st.sampled_from(["\r\n", "\n"])


def _join(lines: list[tuple[str, str]]) -> bytes:
    return "".join(line + newline for line, newline in lines).encode()


BODIES = st.lists(st.tuples(LINES, NEWLINES), max_size=12)


@settings(max_examples=400, deadline=None)
@given(one=BODIES, two=BODIES)
def test_equal_fingerprints_mean_equal_bodies_but_for_dtstamp_lines(
    one: list[tuple[str, str]], two: list[tuple[str, str]]
) -> None:
    a, b = _join(one), _join(two)
    if body_fingerprint(a) == body_fingerprint(b):
        assert _VOLATILE.sub(b"", a) == _VOLATILE.sub(b"", b)


@settings(max_examples=400, deadline=None)
@given(lines=BODIES, stamps=st.lists(st.sampled_from(["1", "2", "20991231T235959Z"])))
def test_restamping_capital_dtstamp_lines_never_changes_the_fingerprint(
    lines: list[tuple[str, str]], stamps: list[str]
) -> None:
    # What publishers send: one capitalised DTSTAMP line between other lines. (A
    # lower-case one, or two in a row, may cost a parse; the test above covers them.)
    others = [
        (line, nl) for line, nl in lines if line[:1].isalpha() and line[:7].upper() != "DTSTAMP"
    ]

    def stamped(stamp: str) -> bytes:
        mixed: list[tuple[str, str]] = []
        for index, line in enumerate(others):
            mixed.append(line)
            if index < len(stamps):
                mixed.append((f"DTSTAMP:{stamp or stamps[index]}", "\r\n"))
        return b"BEGIN:VCALENDAR\r\n" + _join(mixed)

    data = stamped("")
    assert body_fingerprint(data) == reference(data)
    assert body_fingerprint(data) == body_fingerprint(stamped("20300101T000000Z"))
