"""One error hierarchy for Timepulse.

Every error a user may see carries a message fit to show. Feed errors carry
their *kind* as data so the web, the CLI and the sync history can classify
them without parsing text. Messages never contain a feed URL: the URL is a
bearer secret (see docs/security.md), so code that raises these must pass
only the redacted form (``redact_url``) or nothing.

Translated to user output in exactly two places: ``app/web_errors.py`` for
the web and ``app/cli.py`` for the command line.
"""

from __future__ import annotations

from enum import StrEnum


class TimepulseError(Exception):
    """Base class: ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(TimepulseError):
    """User input that cannot be accepted; nothing was changed."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(TimepulseError):
    """The object does not exist or belongs to someone else (answers 404)."""


class FeedErrorKind(StrEnum):
    """What went wrong with a feed, as data (stored on sync runs)."""

    INVALID_URL = "invalid_url"
    INSECURE_URL = "insecure_url"  # http:// instead of https://
    HTML_LINK = "html_link"  # the OWA calendar.html page, not the .ics
    BLOCKED_ADDRESS = "blocked_address"  # SSRF guard: private/loopback/…
    BLOCKED_PORT = "blocked_port"
    DNS = "dns"
    NETWORK = "network"
    TLS = "tls"
    TIMEOUT = "timeout"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    HTTP_NOT_FOUND = "http_not_found"  # 404 / 410: unpublished
    HTTP_CLIENT = "http_client"  # other 4xx
    HTTP_SERVER = "http_server"  # 5xx
    OWA_REFUSED = "owa_refused"  # Office 365 500 with X-OWA-Error
    TOO_LARGE = "too_large"
    NOT_CALENDAR = "not_calendar"  # HTML login page, error page, garbage
    PARSE = "parse"  # looked like a calendar but could not be read


class FeedError(TimepulseError):
    """A feed could not be fetched or read. ``kind`` classifies it.

    ``detail`` is the original technical message (already redacted), kept
    for the sync history's "show details".
    """

    def __init__(
        self,
        kind: FeedErrorKind,
        message: str,
        *,
        detail: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.detail = detail or message
        self.status = status

    def __repr__(self) -> str:
        return f"FeedError({self.kind.value!s}, {self.message!r})"
