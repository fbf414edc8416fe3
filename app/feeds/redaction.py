"""URLs as secrets: the redacted form shown in logs and screens, and scrubbing of library text.

A published calendar link is a bearer secret, so no message, detail or log
line may contain it. Importing this module also masks the request paths in
urllib3's own debug log lines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit


def redact_url(url: str, *, keep: int = 8) -> str:
    """Scheme, host and the last few characters of a URL: safe for logs and screens.

    Short paths show at most a third of themselves, so a short token is
    never shown nearly whole. Anything unparsable becomes "[hidden link]".
    """
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return "[hidden link]"
    if not parts.scheme or not host:
        return "[hidden link]"
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{port}" if port else ""
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme.lower()}://{netloc}{_mask_tail(tail, keep)}"


def _mask_tail(path: str, keep: int = 8) -> str:
    """ "/…" plus the last ``keep`` characters (at most a third) of a path and query."""
    tail = path.lstrip("/")
    if not tail:
        return "/"
    return "/…" + tail[len(tail) - min(keep, len(tail) // 3) :]


class _MaskRequestPaths(logging.Filter):
    """Masks request paths in urllib3's debug lines ("GET /owa/…/calendar.ics").

    urllib3 logs every request line at DEBUG; with the path being the secret
    part of a feed URL, turning on debug logging must not leak it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _mask_tail(arg) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


for _name in ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_MaskRequestPaths())


# "https://" alone, as our own messages write it, is no URL to redact.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?=[^\s'\"<>]*[A-Za-z0-9])[^\s'\"<>]+")
# Path words every published link shares are no secret, and removing them
# from a message garbles it ("The … server took too long to answer").
_PUBLIC_PATH_WORDS = frozenset(
    {"calendar", "calendars", "calendar.ics", "calendar.html", "basic.ics", "published"}
)


def scrub_text(text: str, urls: Iterable[str]) -> str:
    """Remove every trace of ``urls`` (path, query, token segments) from ``text``.

    Library exceptions quote URLs or request paths; their text must be
    cleaned before it is kept as ``FeedError.detail``.
    """
    fragments: set[str] = set()
    for url in urls:
        fragments.update(_secret_fragments(url))
    for fragment in sorted(fragments, key=len, reverse=True):
        text = text.replace(fragment, "…")
    return _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)


def _secret_fragments(url: str) -> set[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return {url}
    path_query = parts.path + (f"?{parts.query}" if parts.query else "")
    pieces = re.split(r"[/?&=]", path_query)
    candidates = {url, path_query, parts.path, parts.query, *pieces}
    return {c for c in candidates if len(c) >= 6 and c.lower() not in _PUBLIC_PATH_WORDS}
