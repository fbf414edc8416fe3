"""The one catalogue of feed diagnostics: what a finding means and how to fix it.

Every diagnostic code Timepulse can show lives here with its severity, a
title, a message in the user's words (what happened and why), a one-line fix
and the section of ``/help/troubleshooting`` that explains the fix step by
step. The feed page, the sync history, the CLI and the help page all read
from this table, so a problem is described the same way everywhere.

``for_feed_error`` translates a ``FeedError`` kind to its entry; the parse
step's own codes ("series_skipped", "timezone_guessed", …) are entries too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.errors import FeedError, FeedErrorKind
from app.feeds.types import Diagnostic, Severity

HELP_PATH = "/help/troubleshooting"


@dataclass(frozen=True)
class Entry:
    """One kind of finding. ``message`` may hold ``str.format`` fields."""

    code: str
    severity: Severity
    title: str
    message: str
    fix: str
    anchor: str

    @property
    def help_path(self) -> str:
        """Where the step-by-step fix is, e.g. ``/help/troubleshooting#https-link``."""
        return f"{HELP_PATH}#{self.anchor}"


def _entries(*entries: Entry) -> dict[str, Entry]:
    return {entry.code: entry for entry in entries}


CATALOGUE: dict[str, Entry] = _entries(
    # --- What the calendar shares -------------------------------------------------
    Entry(
        "availability_only",
        "warning",
        "Only availability is published",
        "Every event in this calendar is titled only with its availability "
        "(Busy, Tentative, Free, Away…) and has no location. The calendar was "
        'published with "Can view when I\'m busy", so Timepulse cannot show '
        "what your meetings were about.",
        'Publish the calendar again with "Limited details" (Outlook) or '
        '"Can view titles and locations" (Outlook on the web) and paste the new link.',
        "availability-only",
    ),
    Entry(
        "limited_details",
        "info",
        "Limited details",
        "The calendar shares subjects and locations but not descriptions. "
        "This is the recommended level for Timepulse.",
        "Nothing to do.",
        "detail-levels",
    ),
    Entry(
        "full_details",
        "info",
        "Full details",
        "The calendar shares subjects, locations and descriptions. Timepulse "
        "works fine with it, but anyone holding the link can read your meeting notes.",
        'If you prefer to share less, publish with "Limited details" instead.',
        "detail-levels",
    ),
    Entry(
        "private_events",
        "info",
        "Private events",
        "{count} event(s) are marked private, so the calendar shows them without "
        'their subject (for example "Private Appointment").',
        "Nothing to do: you can still track them and add your own description.",
        "private-events",
    ),
    Entry(
        "empty_calendar",
        "warning",
        "The calendar has no events",
        "The link works and answers with a calendar, but it contains no events. "
        "The wrong calendar may have been published, or the calendar is new.",
        "Check which calendar you published; publish the one you work from.",
        "empty-calendar",
    ),
    Entry(
        "no_events_in_window",
        "info",
        "No events in the imported period",
        "The calendar has {count} event(s), but none of them falls into the "
        "period Timepulse imports.",
        'Check the "import from" date of this feed.',
        "empty-calendar",
    ),
    # --- State over time -----------------------------------------------------------
    Entry(
        "feed_held",
        "warning",
        "Refresh held back",
        "The calendar suddenly lost most or all of its events. This often means a "
        "temporary problem on the publishing side, so nothing was removed: the "
        "next refresh decides.",
        'Wait for the next refresh or use "Refresh now": events that are really '
        "gone are removed then.",
        "feed-held",
    ),
    Entry(
        "stale_feed",
        "warning",
        "The calendar stopped changing",
        "The published calendar has stayed exactly the same for {days} days although "
        "it contains meetings. Publishing may have stopped updating.",
        "Check in Outlook that the calendar is still published; publish it again if needed.",
        "stale-feed",
    ),
    # --- Reading the calendar (emitted by the parse step) -------------------------
    Entry(
        "timezone_guessed",
        "info",
        "Time zone guessed",
        "An event names a time zone Timepulse does not know exactly, so it was "
        "matched by its name. Times are very likely right, but check them.",
        "Compare a few times with Outlook; if they are off, check the time zone settings.",
        "time-zones",
    ),
    Entry(
        "timezone_unknown",
        "warning",
        "Unknown time zone",
        "An event uses a time zone Timepulse cannot identify, so its times are "
        "read in your own time zone and may be shifted.",
        "Set the same time zone in Outlook and in your Timepulse profile.",
        "time-zones",
    ),
    Entry(
        "series_skipped",
        "warning",
        "An event could not be read",
        "One event or recurring series in the calendar is damaged and was left "
        "out; all other events were imported.",
        "Open the event in Outlook, save it again (or re-create it), then refresh.",
        "skipped-events",
    ),
    Entry(
        "series_repaired",
        "info",
        "An event was repaired",
        "One event had a small defect that Timepulse corrected while reading it.",
        "Nothing to do; compare it with Outlook if it looks odd.",
        "skipped-events",
    ),
    Entry(
        "missing_uid",
        "info",
        "Event without an identifier",
        "Some events carry no identifier, so Timepulse recognises them by their "
        "time and subject. If such an event is moved, it may show up as new.",
        "Nothing to do.",
        "skipped-events",
    ),
    # --- The link -------------------------------------------------------------------
    Entry(
        "invalid_url",
        "error",
        "Not a valid link",
        "This does not look like a web address.",
        "Copy the ICS link again from Outlook and paste it whole.",
        "invalid-link",
    ),
    Entry(
        "insecure_link",
        "error",
        "Link is not secure (http://)",
        "The link starts with http://. Calendar links are secret, so Timepulse only "
        "fetches them over an encrypted https:// connection.",
        "Use the same link with https:// instead of http://.",
        "https-link",
    ),
    Entry(
        "html_link",
        "error",
        "This is the web page link, not the calendar link",
        "You pasted the HTML link (ending in calendar.html), which opens the "
        "calendar in a browser. Timepulse needs the ICS link.",
        "Copy the ICS link (ending in .ics) that Outlook shows next to the HTML link.",
        "ics-vs-html",
    ),
    Entry(
        "blocked_address",
        "error",
        "Address not allowed",
        "The link points to a private or internal network address. Timepulse only "
        "fetches calendars from the public internet.",
        "Use the published link of a calendar that is reachable from the internet.",
        "blocked-address",
    ),
    Entry(
        "blocked_port",
        "error",
        "Port not allowed",
        "The link uses an unusual port. Timepulse only fetches calendars from "
        "standard https:// addresses.",
        "Use the published link exactly as Outlook shows it.",
        "blocked-address",
    ),
    # --- Reaching the server ---------------------------------------------------------
    Entry(
        "dns_error",
        "error",
        "Server name not found",
        "The server name in the link does not exist. The link may be mistyped or cut off.",
        "Copy the ICS link again from Outlook and paste it whole.",
        "connection-problems",
    ),
    Entry(
        "network_error",
        "error",
        "Could not connect",
        "Timepulse could not reach the calendar server. This is usually temporary.",
        "Wait for the next refresh; if it keeps failing, open the link in a browser.",
        "connection-problems",
    ),
    Entry(
        "tls_error",
        "error",
        "Secure connection failed",
        "The calendar server's certificate could not be verified, so Timepulse did "
        "not trust the connection.",
        "Check that the link's server name is right; if it is, ask the server's owner.",
        "connection-problems",
    ),
    Entry(
        "timeout",
        "error",
        "The server took too long",
        "The calendar server did not answer in time. This is usually temporary.",
        'Wait for the next refresh or use "Refresh now" later.',
        "connection-problems",
    ),
    Entry(
        "too_many_redirects",
        "error",
        "Too many redirects",
        "The link sent Timepulse from one address to another too many times.",
        "Copy the final ICS link from Outlook and paste it instead.",
        "connection-problems",
    ),
    # --- What the server answered ----------------------------------------------------
    Entry(
        "not_found",
        "error",
        "Calendar link no longer works",
        "The server says this calendar does not exist (404/410). Publishing was "
        "stopped, or the links were reset and this one no longer works.",
        "Publish the calendar again in Outlook and paste the new ICS link here.",
        "link-not-found",
    ),
    Entry(
        "http_client_error",
        "error",
        "The server refused the request",
        "The server answered with an error instead of the calendar. The link may "
        "need a sign-in, so it is not a published link.",
        "Use the ICS link from Outlook's publishing settings, not an address from the browser bar.",
        "access-refused",
    ),
    Entry(
        "server_error",
        "error",
        "The calendar server had a problem",
        "The calendar server answered with an error (5xx). This is usually temporary.",
        "Wait for the next refresh; if it lasts for a day, publish the calendar again.",
        "server-error",
    ),
    Entry(
        "owa_refused",
        "error",
        "Office 365 refused to publish the calendar",
        "Office 365 answered with an error for this link. Usually publishing was "
        "turned off, the link was reset, or your organisation changed its sharing policy.",
        "Publish the calendar again in Outlook on the web and paste the new ICS link.",
        "office-365-refused",
    ),
    Entry(
        "too_large",
        "error",
        "The calendar is too large",
        "The calendar is larger than Timepulse accepts.",
        "Publish a shorter date range, or a calendar with fewer old events.",
        "too-large",
    ),
    Entry(
        "not_calendar",
        "error",
        "This is not a calendar",
        "The link answered with a web page (for example a sign-in or error page) "
        "instead of a calendar.",
        "Copy the ICS link from Outlook's publishing settings and paste it here.",
        "not-a-calendar",
    ),
    Entry(
        "parse_error",
        "error",
        "The calendar could not be read",
        "The link answered with something that looks like a calendar but could not be read.",
        "Try again later; if it keeps failing, publish the calendar again.",
        "unreadable-calendar",
    ),
)

_FEED_ERROR_CODES: dict[FeedErrorKind, str] = {
    FeedErrorKind.INVALID_URL: "invalid_url",
    FeedErrorKind.INSECURE_URL: "insecure_link",
    FeedErrorKind.HTML_LINK: "html_link",
    FeedErrorKind.BLOCKED_ADDRESS: "blocked_address",
    FeedErrorKind.BLOCKED_PORT: "blocked_port",
    FeedErrorKind.DNS: "dns_error",
    FeedErrorKind.NETWORK: "network_error",
    FeedErrorKind.TLS: "tls_error",
    FeedErrorKind.TIMEOUT: "timeout",
    FeedErrorKind.TOO_MANY_REDIRECTS: "too_many_redirects",
    FeedErrorKind.HTTP_NOT_FOUND: "not_found",
    FeedErrorKind.HTTP_CLIENT: "http_client_error",
    FeedErrorKind.HTTP_SERVER: "server_error",
    FeedErrorKind.OWA_REFUSED: "owa_refused",
    FeedErrorKind.TOO_LARGE: "too_large",
    FeedErrorKind.NOT_CALENDAR: "not_calendar",
    FeedErrorKind.PARSE: "parse_error",
}

# Shown for a code this catalogue does not know yet (say, a new parse finding),
# so a page never breaks on it.
_OTHER_ANCHOR = "other-problems"


def lookup(code: str) -> Entry:
    """The entry for ``code``; an unknown code gets a neutral fallback entry."""
    entry = CATALOGUE.get(code)
    if entry is not None:
        return entry
    return Entry(
        code,
        "info",
        "Other finding",
        "Timepulse noticed something about this calendar.",
        "Compare the calendar with Outlook if something looks wrong.",
        _OTHER_ANCHOR,
    )


def diagnostic(code: str, *, uid: str | None = None, **fmt: object) -> Diagnostic:
    """Build a ``Diagnostic`` with the catalogue's severity and message.

    ``fmt`` fills the message's fields (e.g. ``count=3``). Raises ``KeyError``
    for a code that is not in the catalogue or a missing format field: both
    are programming errors, not user errors.
    """
    entry = CATALOGUE[code]
    return Diagnostic(
        code=code, severity=entry.severity, message=entry.message.format(**fmt), uid=uid
    )


def for_feed_error(err: FeedError) -> Entry:
    """The entry that explains ``err`` to the user."""
    return CATALOGUE[_FEED_ERROR_CODES[err.kind]]


def anchors() -> list[str]:
    """Every help-page section the catalogue links to, in catalogue order."""
    return list(dict.fromkeys([*(e.anchor for e in CATALOGUE.values()), _OTHER_ANCHOR]))


def entries_by_anchor(entries: Iterable[Entry] | None = None) -> dict[str, list[Entry]]:
    """Group entries by help-page section (used to list them on the page)."""
    grouped: dict[str, list[Entry]] = {}
    for entry in CATALOGUE.values() if entries is None else entries:
        grouped.setdefault(entry.anchor, []).append(entry)
    return grouped
