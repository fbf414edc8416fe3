"""The diagnostics catalogue: every code described once, every error kind covered."""

from __future__ import annotations

import re

import pytest

from app.errors import FeedError, FeedErrorKind
from app.feeds import catalogue
from app.feeds.catalogue import CATALOGUE, diagnostic, for_feed_error, lookup

REQUIRED = {
    "availability_only": "warning",
    "limited_details": "info",
    "full_details": "info",
    "private_events": "info",
    "insecure_link": "error",
    "html_link": "error",
    "not_calendar": "error",
    "not_found": "error",
    "server_error": "error",
    "owa_refused": "error",
    "tls_error": "error",
    "timeout": "error",
    "too_large": "error",
    "blocked_address": "error",
    "network_error": "error",
    "dns_error": "error",
    "invalid_url": "error",
    "too_many_redirects": "error",
    "http_client_error": "error",
    "parse_error": "error",
    "empty_calendar": "warning",
    "feed_held": "warning",
    "stale_feed": "warning",
    # Emitted by the parse step under exactly these codes.
    "timezone_guessed": None,
    "timezone_unknown": None,
    "series_skipped": None,
    "series_repaired": None,
    "missing_uid": None,
}


@pytest.mark.parametrize("code", sorted(REQUIRED))
def test_required_code_is_in_catalogue(code: str) -> None:
    entry = CATALOGUE[code]
    assert entry.code == code
    if REQUIRED[code] is not None:
        assert entry.severity == REQUIRED[code]


@pytest.mark.parametrize("entry", CATALOGUE.values(), ids=lambda e: e.code)
def test_every_entry_is_complete_for_a_person(entry: catalogue.Entry) -> None:
    assert entry.severity in {"info", "warning", "error"}
    assert entry.title and entry.message and entry.fix
    assert entry.anchor.replace("-", "").isalnum() and entry.anchor == entry.anchor.lower()
    assert entry.help_path == f"/help/troubleshooting#{entry.anchor}"
    # Messages are shown to people: no code names, no addresses (schemes alone are fine).
    assert "_" not in entry.title
    assert not re.search(r"https?://\w", entry.message + entry.fix)


@pytest.mark.parametrize("kind", list(FeedErrorKind), ids=str)
def test_every_feed_error_kind_has_an_error_entry(kind: FeedErrorKind) -> None:
    entry = for_feed_error(FeedError(kind, "x"))
    assert entry.severity == "error"
    assert entry.code in CATALOGUE


def test_feed_error_mapping_names_the_obvious_problems() -> None:
    def code(kind: FeedErrorKind) -> str:
        return for_feed_error(FeedError(kind, "x")).code

    assert code(FeedErrorKind.INSECURE_URL) == "insecure_link"
    assert code(FeedErrorKind.HTML_LINK) == "html_link"
    assert code(FeedErrorKind.HTTP_NOT_FOUND) == "not_found"
    assert code(FeedErrorKind.OWA_REFUSED) == "owa_refused"
    assert code(FeedErrorKind.NOT_CALENDAR) == "not_calendar"


def test_diagnostic_takes_severity_and_message_from_catalogue() -> None:
    found = diagnostic("private_events", uid="abc", count=3)
    assert found.code == "private_events"
    assert found.severity == "info"
    assert found.uid == "abc"
    assert found.message.startswith("3 event(s) are marked private")


def test_diagnostic_formats_every_field_it_needs() -> None:
    fields = {"count": 2, "days": 9}
    for code in CATALOGUE:
        assert "{" not in diagnostic(code, **fields).message


def test_diagnostic_rejects_unknown_code() -> None:
    with pytest.raises(KeyError):
        diagnostic("no_such_code")


def test_lookup_of_unknown_code_degrades_to_a_neutral_entry() -> None:
    entry = lookup("something_new_from_the_parser")
    assert entry.code == "something_new_from_the_parser"
    assert entry.severity == "info"
    assert entry.anchor in catalogue.anchors()


def test_lookup_returns_catalogue_entry() -> None:
    assert lookup("availability_only") is CATALOGUE["availability_only"]
