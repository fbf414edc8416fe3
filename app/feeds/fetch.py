"""The guarded fetch: the one module through which Timepulse talks to the outside.

A feed URL is typed in by a user, so every request is a possible server-side
request forgery: the link (or a redirect it leads to) may point at the
machine itself, the office network or a cloud metadata service. Every hop is
therefore vetted before any packet leaves — https only, an allowed port, and
every address the host name resolves to must be public (``addresses``) —
and the connection is made to the vetted address itself, so a second DNS
answer cannot swap it (DNS rebinding). Certificates are always verified
against the original name.

Kept-alive connections are reused between fetches (``pools.pool_for``), but
only where nothing the guard decided could differ: every fetch still resolves
and vets each hop, and a pooled connection serves it only when it was opened
to the same vetted address and port, for the same name and CA bundle. The
fetch's own deadline and size cap apply to a reused connection; one whose
answer was not read to the end is closed, never pooled.

The URL is a bearer secret: no message, detail or log line written here
contains it; ``redact_url`` (``redaction``) is the only form that leaves
this module.

The policy, address rules, redaction, pools and the calendar check live in
their own modules; the names this module always offered are re-exported
here, so ``from app.feeds.fetch import ...`` keeps working.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urljoin, urlsplit

import urllib3
from urllib3.exceptions import (
    ClosedPoolError,
    DecodeError,
    HTTPError,
    LocationValueError,
    NewConnectionError,
    ProtocolError,
    SSLError,
)
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from app.errors import FeedError, FeedErrorKind
from app.feeds import pools
from app.feeds.addresses import (
    AddressClass,
    IPAddress,
    address_allowed,
    classify_address,
    is_public_address,
    to_ip,
)
from app.feeds.calendar_body import check_calendar_body, looks_like_calendar
from app.feeds.fetch_policy import (
    FetchPolicy,
    IPNetwork,
    Resolver,
    warn_if_private_allowed,
)
from app.feeds.pools import close_pools
from app.feeds.redaction import redact_url, scrub_text
from app.feeds.types import FetchResult

__all__ = [
    "ACCEPT",
    "REDIRECT_STATUSES",
    "USER_AGENT",
    "AddressClass",
    "FetchPolicy",
    "IPAddress",
    "IPNetwork",
    "Resolver",
    "address_allowed",
    "check_calendar_body",
    "classify_address",
    "close_pools",
    "fetch_feed",
    "is_public_address",
    "looks_like_calendar",
    "redact_url",
    "scrub_text",
    "warn_if_private_allowed",
]

log = logging.getLogger("timepulse.feeds.fetch")

# Office 365 answers HTTP 500 with an X-OWA-Error header to clients it does
# not recognise as a browser or calendar app, so we introduce ourselves as one.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/146.0.0.0 Safari/537.36 Edg/146.0.0.0"
)
ACCEPT = "text/calendar, text/plain;q=0.9, */*;q=0.8"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


# --- vetting a hop ------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """One request, vetted: where to connect and what to ask for."""

    url: str
    host: str
    port: int
    request_path: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == 443 else f"{name}:{self.port}"


def _vet(url: str, policy: FetchPolicy, *, redirected: bool) -> _Target:
    """Apply every rule to one URL before any connection is made."""
    where = "The calendar server redirected to" if redirected else "This link points to"
    parts = _split(url, where)
    host, port = _host_and_port(parts, where)
    if policy.allowed_ports is not None and port not in policy.allowed_ports:
        raise FeedError(
            FeedErrorKind.BLOCKED_PORT,
            f"{where} port {port}, which Timepulse does not connect to. Published "
            "calendars are served on the standard https port (443).",
        )
    addresses = _resolve(host, port, policy)
    for address in addresses:
        if not address_allowed(address, policy):
            raise FeedError(
                FeedErrorKind.BLOCKED_ADDRESS,
                f"{where} a private or internal network address, which Timepulse "
                "never connects to. Use the public ICS link of a published calendar.",
                detail=f"address {address} refused ({classify_address(address)})",
            )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(url, host, port, path, tuple(addresses))


def _split(url: str, where: str) -> SplitResult:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise FeedError(
            FeedErrorKind.INVALID_URL, f"{where} an address that is not valid."
        ) from None
    if parts.scheme.lower() != "https":
        raise FeedError(
            FeedErrorKind.INSECURE_URL,
            f"{where} an address that does not start with https://. Timepulse only "
            "fetches calendars over an encrypted connection.",
        )
    if "@" in parts.netloc:
        raise FeedError(
            FeedErrorKind.INVALID_URL,
            f"{where} an address containing a user name or password, which Timepulse "
            "does not send. A published calendar link needs no sign-in.",
        )
    return parts


def _host_and_port(parts: SplitResult, where: str) -> tuple[str, int]:
    try:
        host, port = parts.hostname, parts.port or 443
    except ValueError:
        host, port = None, 0
    if not host or not port:
        raise FeedError(FeedErrorKind.INVALID_URL, f"{where} an address that is not valid.")
    return host, port


def _resolve(host: str, port: int, policy: FetchPolicy) -> list[str]:
    """Every address of ``host``; a literal IP is its own (only) answer."""
    try:
        return [str(to_ip(host))]
    except ValueError:
        pass  # a name, not a literal address
    try:
        found = policy.resolver(host, port) if policy.resolver else _system_resolve(host, port)
    except (OSError, UnicodeError) as exc:
        found, detail = [], f"{type(exc).__name__}: {exc}"
    else:
        detail = "no addresses"
    if not found:
        raise FeedError(
            FeedErrorKind.DNS,
            f"The calendar server's name ({host}) could not be found. Check that the "
            "link was copied completely, and try again later.",
            detail=detail,
        )
    return list(dict.fromkeys(found))


def _system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


# --- the fetch ------------------------------------------------------------------


def fetch_feed(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    policy: FetchPolicy = FetchPolicy(),
) -> FetchResult:
    """Fetch a published calendar under ``policy``, following at most a few redirects.

    ``etag`` / ``last_modified`` are the validators of the last good fetch;
    a 304 answer comes back as ``FetchResult(not_modified=True)``.

    Raises FeedError whose ``kind`` says what went wrong and whose message
    (and ``detail``) never contains the URL.
    """
    started = time.monotonic()
    deadline = started + policy.total_timeout
    seen = [url]
    try:
        for hop in range(policy.max_redirects + 1):
            target = _vet(seen[-1], policy, redirected=hop > 0)
            with ExitStack() as stack:
                response = _open(
                    target, _headers(target, etag, last_modified), policy, deadline, stack
                )
                location = _redirect_location(response, target.url)
                if location is None:
                    result = _result(response, policy, deadline, started, (etag, last_modified))
                    if log.isEnabledFor(logging.DEBUG):
                        log.debug("fetched %s: HTTP %s", redact_url(url), result.status)
                    return result
                _finish_small_answer(response, deadline)
            seen.append(location)
    except FeedError as exc:
        exc.detail = scrub_text(exc.detail, seen)
        raise
    except (HTTPError, OSError, ValueError) as exc:  # ValueError: e.g. a bad IDNA name
        raise _translate(exc, seen) from None
    raise FeedError(
        FeedErrorKind.TOO_MANY_REDIRECTS,
        f"The calendar server redirected more than {policy.max_redirects} times. "
        "Publish the calendar again and use the new ICS link.",
    )


def _headers(target: _Target, etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Accept": ACCEPT,
        "Accept-Encoding": "gzip, deflate",
        "Accept-Language": "en-US,en;q=0.9",
        "Connection": "keep-alive",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _open(
    target: _Target,
    headers: dict[str, str],
    policy: FetchPolicy,
    deadline: float,
    stack: ExitStack,
) -> urllib3.BaseHTTPResponse:
    """Send the request to the first vetted address that accepts a connection."""
    for index, address in enumerate(target.addresses):
        try:
            response = _send(target, address, headers, policy, deadline)
        except NewConnectionError:
            if index == len(target.addresses) - 1:
                raise
            continue
        # A complete answer has handed its connection back to the pool by the
        # time the fetch is done with it; close() ends only a connection whose
        # answer was not read to the end, which must never serve another fetch.
        stack.callback(response.close)
        return response
    raise AssertionError("_vet never returns a target without addresses")


def _send(
    target: _Target,
    address: str,
    headers: dict[str, str],
    policy: FetchPolicy,
    deadline: float,
) -> urllib3.BaseHTTPResponse:
    """One request on a pooled or new connection, with this fetch's timeouts.

    A kept-alive connection that the server closed while it sat in the pool
    fails before any answer arrives; the request then goes out again on the
    next connection (at most once per pooled one), as browsers do. A pool
    that another thread evicted meanwhile is replaced the same way.
    """
    for attempt in range(pools.MAX_STALE_RETRIES + 1):
        remaining = _remaining(deadline)
        pool = pools.pool_for(address, target.port, target.host, policy)
        try:
            return pool.urlopen(
                "GET",
                target.request_path,
                headers=headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=True,
                # This fetch's deadline, not that of the fetch that opened the connection.
                timeout=urllib3.Timeout(
                    connect=min(policy.connect_timeout, remaining), read=remaining
                ),
            )
        except ClosedPoolError:
            if attempt == pools.MAX_STALE_RETRIES:
                raise
        except (ProtocolError, SSLError):
            if not pools.took_kept_alive_connection() or attempt == pools.MAX_STALE_RETRIES:
                raise
            log.debug("kept-alive connection to %s was closed; using a new one", target.host)
    raise AssertionError("the last attempt returns or raises")


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FeedError(FeedErrorKind.TIMEOUT, _TIMEOUT_MESSAGE, detail="total deadline passed")
    return remaining


_TIMEOUT_MESSAGE = (
    "The calendar server took too long to answer. It may be busy; Timepulse will try again later."
)


_DRAIN_LIMIT = 64 * 1024


def _finish_small_answer(response: urllib3.BaseHTTPResponse, deadline: float) -> None:
    """Read the rest of a short answer (304, redirect, error page) so its connection is reused.

    Only a body of known length up to _DRAIN_LIMIT is read, within the
    deadline; anything else is left unread and its connection is closed.
    Never raises: a connection that fails here is simply not reused.
    """
    left = response.length_remaining
    if left is None or left > _DRAIN_LIMIT:
        return
    try:
        while response.connection is not None:  # urllib3 hands it back once complete
            _tighten_read_timeout(response, _remaining(deadline))
            if not response.read(_CHUNK, decode_content=False):
                return
    except (FeedError, HTTPError, OSError):
        return


def _redirect_location(response: urllib3.BaseHTTPResponse, current: str) -> str | None:
    if response.status not in REDIRECT_STATUSES:
        return None
    location = response.headers.get("Location")
    if not location:
        raise FeedError(
            FeedErrorKind.HTTP_SERVER,
            "The calendar server sent a redirect without saying where to.",
            status=response.status,
        )
    return urljoin(current, location.strip())


def _result(
    response: urllib3.BaseHTTPResponse,
    policy: FetchPolicy,
    deadline: float,
    started: float,
    validators: tuple[str | None, str | None],
) -> FetchResult:
    status = response.status
    etag = response.headers.get("ETag")
    last_modified = response.headers.get("Last-Modified")
    if status == 304:
        _finish_small_answer(response, deadline)
        return FetchResult(
            status=status,
            body=b"",
            etag=etag or validators[0],
            last_modified=last_modified or validators[1],
            content_type=None,
            not_modified=True,
            elapsed=time.monotonic() - started,
        )
    if not 200 <= status < 300:
        _finish_small_answer(response, deadline)
        _raise_for_status(response)
    body = _read_body(response, policy, deadline)
    check_calendar_body(body)
    return FetchResult(
        status=status,
        body=body,
        etag=etag,
        last_modified=last_modified,
        content_type=response.headers.get("Content-Type"),
        not_modified=False,
        elapsed=time.monotonic() - started,
    )


def _raise_for_status(response: urllib3.BaseHTTPResponse) -> None:
    """Map an unsuccessful HTTP status to the kind of problem the user has."""
    status = response.status
    if 200 <= status < 300:
        return
    owa_error = response.headers.get("X-OWA-Error")
    detail = f"HTTP {status} {response.reason or ''}".strip()
    detail += f"; X-OWA-Error: {owa_error}" if owa_error else ""
    kind = _status_kind(status, owa_error)
    message = _STATUS_MESSAGES[kind].format(status=status)
    raise FeedError(kind, message, detail=detail, status=status)


def _status_kind(status: int, owa_error: str | None) -> FeedErrorKind:
    if status in (404, 410):
        return FeedErrorKind.HTTP_NOT_FOUND
    if status == 500 and owa_error is not None:
        return FeedErrorKind.OWA_REFUSED
    if 400 <= status < 500:
        return FeedErrorKind.HTTP_CLIENT
    return FeedErrorKind.HTTP_SERVER


_STATUS_MESSAGES = {
    FeedErrorKind.HTTP_NOT_FOUND: (
        "The calendar server says this calendar does not exist (HTTP {status}). It was "
        "probably unpublished or its link was reset: publish it again and paste the new "
        "ICS link."
    ),
    FeedErrorKind.OWA_REFUSED: (
        "Office 365 refused to hand out this calendar (HTTP {status} with an Outlook "
        "error). This usually means the calendar is no longer published or its link was "
        "reset. In Outlook on the web open Settings → Calendar → Shared calendars, "
        "publish the calendar again and paste the new ICS link."
    ),
    FeedErrorKind.HTTP_CLIENT: (
        "The calendar server refused the request (HTTP {status}). A published calendar "
        "link works without signing in; check that you copied the ICS link of a "
        "published calendar."
    ),
    FeedErrorKind.HTTP_SERVER: (
        "The calendar server had a problem (HTTP {status}). This is usually temporary; "
        "Timepulse will try again later."
    ),
}


def _read_body(response: urllib3.BaseHTTPResponse, policy: FetchPolicy, deadline: float) -> bytes:
    """Stream the decoded body, enforcing the size cap and the total deadline.

    Sizes are counted after decompression, so a small gzip bomb is stopped
    at the cap; ``read1`` returns after a single network read, so a body
    that trickles in cannot outlive the deadline.
    """
    if _declared_length(response) > policy.max_bytes:
        raise _too_large(policy)
    # An unencoded body skips urllib3's decoding buffer: it would hand back
    # the same bytes, at a cost per chunk. Chunks are joined once at the end:
    # growing a bytearray and copying it out cost more than that join.
    decode = _encoded(response)
    chunks: list[bytes] = []
    size = 0
    while True:
        _tighten_read_timeout(response, _remaining(deadline))
        chunk = response.read1(_CHUNK, decode_content=decode)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > policy.max_bytes:
            raise _too_large(policy)


def _encoded(response: urllib3.BaseHTTPResponse) -> bool:
    """Whether the body comes with a Content-Encoding other than none (gzip, deflate…)."""
    return response.headers.get("Content-Encoding", "").strip().lower() not in ("", "identity")


def _declared_length(response: urllib3.BaseHTTPResponse) -> int:
    """Content-Length of an unencoded body (0 when unknown or compressed)."""
    if _encoded(response):
        return 0
    try:
        return int(response.headers.get("Content-Length", "0"))
    except ValueError:
        return 0


def _tighten_read_timeout(response: urllib3.BaseHTTPResponse, remaining: float) -> None:
    # urllib3 sets the read timeout once per request; shrink it so a stalled
    # read ends at the deadline instead of a full timeout later.
    sock: Any = getattr(response.connection, "deadline_socket", None)
    if sock is not None:
        sock.settimeout(remaining)


def _too_large(policy: FetchPolicy) -> FeedError:
    mib = policy.max_bytes / (1024 * 1024)
    return FeedError(
        FeedErrorKind.TOO_LARGE,
        f"The calendar is larger than {mib:g} MiB, more than Timepulse accepts. Publish "
        "a smaller calendar, or ask your administrator to raise the limit.",
    )


def _translate(exc: BaseException, urls: list[str]) -> FeedError:
    """Turn a library or socket exception into a FeedError with a scrubbed detail."""
    detail = scrub_text(f"{type(exc).__name__}: {exc}", urls)
    kind, message = _classify_exception(exc)
    return FeedError(kind, message, detail=detail)


def _classify_exception(exc: BaseException) -> tuple[FeedErrorKind, str]:
    # NewConnectionError subclasses ConnectTimeoutError in urllib3 2: test it first.
    if isinstance(exc, NewConnectionError):
        return FeedErrorKind.NETWORK, (
            "Could not connect to the calendar server (the connection was refused or the "
            "server is unreachable). Timepulse will try again later."
        )
    if isinstance(exc, Urllib3Timeout | TimeoutError):
        return FeedErrorKind.TIMEOUT, _TIMEOUT_MESSAGE
    if isinstance(exc, SSLError | ssl.SSLError):
        return FeedErrorKind.TLS, (
            "The calendar server's security certificate could not be verified, so "
            "Timepulse did not trust the connection. Check that the link is the one you "
            "were given, and try again later."
        )
    if isinstance(exc, LocationValueError) or not isinstance(exc, HTTPError | OSError):
        return FeedErrorKind.INVALID_URL, "The calendar address is not valid."
    if isinstance(exc, ProtocolError | DecodeError | ConnectionError):
        return FeedErrorKind.NETWORK, (
            "The connection to the calendar server broke off before the calendar arrived "
            "completely. Timepulse will try again later."
        )
    return FeedErrorKind.NETWORK, (
        "A network problem stopped Timepulse from fetching the calendar. It will try again later."
    )
