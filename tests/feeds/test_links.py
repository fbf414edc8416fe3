"""What a user may paste as a feed link, and what they are told when it will not do."""

from __future__ import annotations

import pytest

from app.errors import FeedError, FeedErrorKind
from app.feeds.links import FeedLinkError, mask_url, normalize_feed_url

TOKEN = "9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"
OWA = f"https://outlook.office365.com/owa/calendar/0a1b2c3d@contoso.com/{TOKEN}"


def link_error(raw: str) -> FeedLinkError:
    with pytest.raises(FeedLinkError) as caught:
        normalize_feed_url(raw)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        (f"{OWA}/calendar.ics", f"{OWA}/calendar.ics"),
        (f"  {OWA}/calendar.ics\n", f"{OWA}/calendar.ics"),
        (f"<{OWA}/calendar.ics>", f"{OWA}/calendar.ics"),
        (f"webcal://{OWA[8:]}/calendar.ics", f"{OWA}/calendar.ics"),
        (f"webcals://{OWA[8:]}/calendar.ics", f"{OWA}/calendar.ics"),
        (f"WEBCAL://{OWA[8:]}/calendar.ics", f"{OWA}/calendar.ics"),
        (
            "HTTPS://Calendar.Example.COM:443/Feed/AbC.ics",
            "https://calendar.example.com/Feed/AbC.ics",
        ),
        (
            "https://cal.example.com:8443/a.ics?k=XyZ#top",
            "https://cal.example.com:8443/a.ics?k=XyZ",
        ),
        ("https://cal.example.com", "https://cal.example.com/"),
        ("https://localhost:4443/calendar.ics", "https://localhost:4443/calendar.ics"),
        ("https://[2001:db8::1]/calendar.ics", "https://[2001:db8::1]/calendar.ics"),
    ],
)
def test_usable_links_are_normalised(raw: str, url: str) -> None:
    assert normalize_feed_url(raw) == url


def test_http_is_refused_with_an_explanation() -> None:
    error = link_error(f"http://{OWA[8:]}/calendar.ics")
    assert error.kind is FeedErrorKind.INSECURE_URL
    assert "https://" in error.message


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "calendar",
        "outlook.office365.com/owa/calendar/x/calendar.ics",
        "ftp://example.com/calendar.ics",
        "mailto:ada@example.com",
        "javascript:alert(1)",
        "https://",
        "https:///calendar.ics",
        "https://example.com/my calendar.ics",
        "https://example.com:99999/calendar.ics",
        "https://example.com:0/calendar.ics",
        "https://[::1/calendar.ics",
        "https://example.com/" + "a" * 5000,
    ],
)
def test_things_that_are_not_links_are_explained(raw: str) -> None:
    error = link_error(raw)
    assert error.kind is FeedErrorKind.INVALID_URL
    assert "link" in error.message and error.suggestion is None


@pytest.mark.parametrize(
    "raw", ["https://ada:secret@example.com/c.ics", "https://ada@example.com/c.ics"]
)
def test_user_name_or_password_is_refused(raw: str) -> None:
    error = link_error(raw)
    assert error.kind is FeedErrorKind.INVALID_URL
    assert "user name or password" in error.message
    assert "secret" not in error.message


@pytest.mark.parametrize(
    ("page", "ics"),
    [
        (f"{OWA}/calendar.html", f"{OWA}/calendar.ics"),
        (f"webcal://{OWA[8:]}/calendar.html", f"{OWA}/calendar.ics"),
        (f"{OWA}/reachcalendar.html", f"{OWA}/reachcalendar.ics"),
        (
            "https://mail.contoso.com/owa/calendar/a@contoso.com/tok/Calendar.HTML",
            "https://mail.contoso.com/owa/calendar/a@contoso.com/tok/Calendar.ics",
        ),
    ],
)
def test_outlook_web_page_link_offers_the_ics_link(page: str, ics: str) -> None:
    error = link_error(page)
    assert error.kind is FeedErrorKind.HTML_LINK
    assert error.suggestion == ics
    assert normalize_feed_url(error.suggestion) == ics
    assert "Use the ICS link instead; we can use it for you" in error.message


def test_link_errors_are_feed_errors_without_the_url() -> None:
    for raw in [f"http://{OWA[8:]}/calendar.ics", f"{OWA}/calendar.html", "not a link"]:
        error = link_error(raw)
        assert isinstance(error, FeedError)
        for text in (error.message, error.detail, str(error), repr(error)):
            assert TOKEN not in text and "contoso" not in text


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"{OWA}/calendar.ics", "outlook.office365.com/…ndar.ics"),
        ("https://cal.example.com/feeds/0d4e5f6a7b8c1f03f9a.ics", "cal.example.com/…3f9a.ics"),
        ("https://cal.example.com:8443/a.ics", "cal.example.com:8443/…s"),
        ("garbage", "[hidden link]"),
    ],
)
def test_mask_url_shows_host_and_last_characters(url: str, masked: str) -> None:
    assert mask_url(url) == masked
