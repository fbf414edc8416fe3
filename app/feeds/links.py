"""Turning what a user pasted into the feed URL Timepulse will fetch.

People paste what their calendar app shows them: a ``webcal://`` link, an
``http://`` link, the Outlook on the web *page* (``calendar.html``) instead
of the calendar file (``calendar.ics``), stray spaces. Each is either fixed
silently (spaces, webcal) or refused with a message saying what to paste
instead. Messages never repeat the URL: it is a bearer secret.

The network rules (port, addresses) are checked by ``fetch`` when the feed
is first fetched, because they depend on the operator's policy.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

from app.errors import FeedError, FeedErrorKind
from app.feeds.fetch import redact_url

MAX_URL_LENGTH = 4096
# The Outlook on the web page for a published calendar; the same path with
# .ics is the calendar itself (reachcalendar.* on some Exchange versions).
_OWA_PAGE = re.compile(r"(?i)(reach)?calendar\.html?$")


class FeedLinkError(FeedError):
    """A pasted link that cannot be used; ``suggestion`` is the link to use instead.

    ``suggestion`` is a URL — a secret — and is kept out of the message so it
    can be offered ("use it for you") without being logged.
    """

    def __init__(self, kind: FeedErrorKind, message: str, *, suggestion: str | None = None):
        super().__init__(kind, message)
        self.suggestion = suggestion


def normalize_feed_url(raw: str) -> str:
    """The https URL to store for what the user pasted.

    Trims whitespace, turns ``webcal(s)://`` into ``https://``, lowercases
    the scheme and host, drops a default ``:443`` and any ``#fragment``, and
    keeps path and query exactly (tokens are case-sensitive).

    Raises FeedLinkError: INVALID_URL (not a link, user name in it),
    INSECURE_URL (``http://``), HTML_LINK (the Outlook calendar page; the
    ``.ics`` link is in ``suggestion``).
    """
    text = raw.strip().strip("<>\"'").strip()
    if not text:
        raise FeedLinkError(FeedErrorKind.INVALID_URL, "Paste the calendar's ICS link.")
    parts = _parse(text)
    url = _assemble(parts)
    if _OWA_PAGE.search(parts.path.rsplit("/", 1)[-1]):
        raise FeedLinkError(
            FeedErrorKind.HTML_LINK,
            "This is the link to the calendar's web page (it ends in .html), not to the "
            "calendar itself. Use the ICS link instead; we can use it for you.",
            suggestion=re.sub(r"(?i)\.html?$", ".ics", url),
        )
    return url


def mask_url(url: str) -> str:
    """The URL as shown on screen: host and the last few characters only."""
    return redact_url(url).split("://", 1)[-1]


def _parse(text: str) -> SplitResult:
    if len(text) > MAX_URL_LENGTH or any(c.isspace() for c in text):
        raise _not_a_link()
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise _not_a_link() from None
    scheme = parts.scheme.lower()
    if scheme == "http":
        raise FeedLinkError(
            FeedErrorKind.INSECURE_URL,
            "This link starts with http://, which is not encrypted. A published calendar "
            "link starts with https:// (or webcal://); copy the ICS link again.",
        )
    if scheme not in ("https", "webcal", "webcals") or not host:
        raise _not_a_link()
    if parts.username is not None or parts.password is not None:
        raise FeedLinkError(
            FeedErrorKind.INVALID_URL,
            "This link contains a user name or password. A published calendar link needs "
            "no sign-in; copy the ICS link from the publishing settings.",
        )
    if port == 0:
        raise _not_a_link()
    return parts


def _assemble(parts: SplitResult) -> str:
    """https://host[:port]/path?query from the parsed parts; webcal becomes https."""
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port not in (None, 443):
        netloc += f":{parts.port}"
    return urlunsplit(("https", netloc, parts.path or "/", parts.query, ""))


def _not_a_link() -> FeedLinkError:
    return FeedLinkError(
        FeedErrorKind.INVALID_URL,
        "This is not a web link. A published calendar link starts with https:// (or "
        "webcal://) and usually ends in .ics; copy it again from your calendar's "
        "publishing settings.",
    )
