"""A UTF-8 feed with a few invalid bytes stays UTF-8.

Found by the hostile-feed suite: one event with a stray byte (pasted from a
Windows-1252 source, or a multi-byte character cut by a gateway) made the
whole body decode as Windows-1252, so every other accented subject turned
into mojibake ("CafÃ©") — and each tracked one was flagged as renamed. A
fold inside a multi-byte character (allowed by RFC 5545) did the same.
"""

from __future__ import annotations

from app.feeds.lines import decode_body
from tests.feeds.helpers import calendar, occurrences, utc

GOOD = "UID:good\nSUMMARY:Café with Zoë\nDTSTART:20250610T080000Z\nDTEND:20250610T090000Z"
DAMAGED = "UID:damaged\nSUMMARY:broken @@ bytes\nDTSTART:20250611T080000Z\nDTEND:20250611T090000Z"


def test_other_events_keep_their_accents() -> None:
    data = calendar(GOOD, DAMAGED).replace(b"@@", b"\xff\xfe \xc3\x28")

    found = {o.uid: o.summary for o in occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1))}

    assert found["good"] == "Café with Zoë"
    assert found["damaged"] == "broken ÿþ Ã( bytes"  # that line alone read as Windows-1252


def test_windows_1252_bodies_are_still_read_as_windows_1252() -> None:
    assert decode_body("Réunion d'équipe – “Q3”".encode("cp1252")) == "Réunion d'équipe – “Q3”"


def test_a_character_split_by_a_fold_is_read_whole() -> None:
    # RFC 5545 folds at 75 octets, even inside a multi-byte character.
    data = calendar(GOOD.replace("Zoë", "Zo@@"))
    data = data.replace(b"@@", "ë".encode()[:1] + b"\r\n " + "ë".encode()[1:])

    (found,) = occurrences(data, utc(2025, 6, 1), utc(2025, 7, 1))

    assert found.summary == "Café with Zoë"
