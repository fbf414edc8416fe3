"""A real HTTPS calendar server on 127.0.0.1, for tests and for helper processes.

Feeds are fetched in the tests exactly as in production — TLS, redirects,
compression, broken connections — against this server, never a patched
``requests``. Its certificate comes from a test CA made by ``trustme``;
point fetches at it through REQUESTS_CA_BUNDLE (the ``feed_ca`` fixture
does this) or ``FetchPolicy(ca_bundle=...)``.

Loaded as a pytest plugin (``pytest_plugins = ["tests.support.feed_server"]``)
it provides the ``feed_ca`` and ``feed_server`` fixtures. Outside pytest —
a browser test driver, a script feeding a Celery worker in another process —
use it as a context manager::

    with FeedServer() as server:
        server.route("/calendar.ics", body=ICS, etag='"v1"')
        env = {"REQUESTS_CA_BUNDLE": str(server.ca_bundle_path),
               "TIMEPULSE_ALLOW_PRIVATE_FEEDS": "1"}
        ...  # start the worker with env, add the feed server.url("/calendar.ics")

The host name is loopback, so fetches need ``local_policy()`` (loopback and
any port allowed), or ``FAKE_PUBLIC_HOST`` plus ``static_resolver`` to look
like a public name that resolves to 127.0.0.1.

By default every answer closes its connection. ``FeedServer(keep_alive=5)``
keeps connections open between requests like a real web server (Office 365
does), closing one after that many idle seconds; ``RecordedRequest.client_port``
tells the connections apart.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import os
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import trustme

from app.feeds.fetch import FetchPolicy, Resolver, close_pools

# A name that looks public to the fetch guard once ``static_resolver`` maps it
# to 127.0.0.1; the server's certificate is valid for it.
FAKE_PUBLIC_HOST = "feeds.timepulse.test"
CERT_NAMES = ("localhost", "127.0.0.1", "::1", FAKE_PUBLIC_HOST)


@dataclass
class Response:
    """One scripted answer. ``body`` may be str (sent as UTF-8).

    ``etag``/``last_modified`` are sent as headers and drive the automatic
    304. Misbehaviour: ``reset`` closes the connection with a TCP reset and no
    answer; ``truncate_to`` sends only that many body bytes under the full
    Content-Length; ``gzip_bomb`` replaces the body with gzip of that many
    zero bytes; ``trickle_bytes_per_sec`` drips the body; ``delay`` waits
    before answering; ``hold`` waits until the test sets that event.
    """

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    trickle_bytes_per_sec: float | None = None
    gzip: bool = False
    redirect_to: str | None = None
    reset: bool = False
    delay: float = 0.0
    truncate_to: int | None = None
    gzip_bomb: int | None = None
    stall_after: int | None = None
    hold: threading.Event | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the server saw it: ``path`` includes the query string.

    ``client_port`` is the client's end of the TCP connection: requests with
    the same port came over the same connection.
    """

    method: str
    path: str
    headers: dict[str, str]
    client_port: int = 0

    def header(self, name: str) -> str | None:
        """Header value by case-insensitive name."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class FeedServer:
    """HTTPS server with scripted routes, a request log and failure modes."""

    def __init__(
        self,
        ca: trustme.CA | None = None,
        *,
        names: Sequence[str] = CERT_NAMES,
        bind: str = "127.0.0.1",
        keep_alive: float | None = None,
    ) -> None:
        self.ca = ca or trustme.CA()
        self.keep_alive = keep_alive
        self._open: set[socket.socket] = set()
        self._names = tuple(names)
        self._bind = bind
        self._lock = threading.Lock()
        self._scripts: dict[str, list[Response]] = {}
        self._served: dict[str, int] = {}
        self._requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPSServer | None = None
        self._thread: threading.Thread | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None

    # -- lifecycle --

    def start(self) -> FeedServer:
        """Listen on an ephemeral port and serve from a background thread."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*self._names).configure_cert(context)
        self._stopping.clear()
        self._httpd = _HTTPSServer((self._bind, 0), context, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, end slow answers early and close every socket."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._end_idle_connections()
            self._httpd.server_close()  # joins the handler threads
            self._httpd = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def _end_idle_connections(self) -> None:
        """Wake handler threads waiting on a kept-alive connection, so stop() need not wait."""
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):  # already closed
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # TCP only, under the TLS layer

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses --

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FeedServer is not started")
        return int(self._httpd.server_address[1])

    def url(self, path: str = "/", *, host: str = "localhost") -> str:
        """The https URL of ``path`` on this server (``host`` must be in the cert)."""
        return f"https://{host}:{self.port}/{path.lstrip('/')}"

    @property
    def ca_bundle_path(self) -> Path:
        """A PEM file with the CA that signed this server's certificate."""
        if self._tempdir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="feed-ca-")
        path = Path(self._tempdir.name) / "ca.pem"
        if not path.exists():
            self.ca.cert_pem.write_to_path(str(path))
        return path

    # -- routes --

    def route(
        self,
        path: str,
        body: bytes | str = b"",
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        trickle: float | None = None,
        **options: Any,
    ) -> None:
        """Answer every request for ``path`` the same way (``options``: Response fields)."""
        response = Response(
            status=status,
            body=body,
            headers=dict(headers or {}),
            delay=delay,
            trickle_bytes_per_sec=trickle,
            **options,
        )
        self.script(path, [response])

    def script(self, path: str, responses: Sequence[Response]) -> None:
        """Answer successive requests for ``path`` in turn; the last one repeats."""
        if not responses:
            raise ValueError("a script needs at least one response")
        with self._lock:
            self._scripts[_route_key(path)] = list(responses)
            self._served[_route_key(path)] = 0

    def clear(self) -> None:
        """Forget routes and the request log (for a server shared between tests)."""
        with self._lock:
            self._scripts.clear()
            self._served.clear()
            self._requests.clear()

    # -- the log --

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def hits(self, path: str) -> int:
        """How many requests asked for ``path`` (query string ignored)."""
        key = _route_key(path)
        return sum(1 for r in self.requests if _route_key(r.path) == key)

    # -- used by the handler --

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _released(self, gate: threading.Event) -> bool:
        """Wait until ``gate`` is set; False when the server stops first."""
        while not gate.wait(0.05):
            if self._stopping.is_set():
                return False
        return True

    def _next_response(self, path: str) -> Response | None:
        key = _route_key(path)
        with self._lock:
            script = self._scripts.get(key)
            if script is None:
                return None
            index = self._served[key]
            self._served[key] = index + 1
            return script[min(index, len(script) - 1)]


def _route_key(path: str) -> str:
    return "/" + urlsplit(path).path.lstrip("/")


class _HTTPSServer(ThreadingHTTPServer):
    """Wraps each accepted socket in TLS; the handshake runs in the handler thread.

    Doing the handshake in ``accept`` would let one stuck client block the
    whole server.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext, feed: FeedServer) -> None:
        self.context = context
        self.feed = feed
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        wrapped = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        if self.feed.keep_alive is not None:
            with self.feed._lock:
                self.feed._open.add(wrapped)
        return wrapped, address

    def shutdown_request(self, request: Any) -> None:
        with self.feed._lock:
            self.feed._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that go away mid-answer are the point of many tests: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    server: _HTTPSServer

    def setup(self) -> None:
        if self.server.feed.keep_alive is not None:
            self.timeout = self.server.feed.keep_alive  # idle time before closing
            # Head and body go out in separate writes: with Nagle on, the body
            # waits for the client's delayed ACK (40 ms) on a kept-alive connection.
            self.disable_nagle_algorithm = True
        super().setup()

    def handle(self) -> None:
        try:
            self.connection.do_handshake()
        except (ssl.SSLError, OSError):
            return  # e.g. a client that does not trust our CA
        super().handle()

    def do_GET(self) -> None:
        feed = self.server.feed
        # Kept alive only when the server is set up for it and the client asks.
        self.close_connection = self.close_connection or feed.keep_alive is None
        feed._record(
            RecordedRequest("GET", self.path, dict(self.headers.items()), self.client_address[1])
        )
        response = feed._next_response(self.path)
        if response is None:
            response = Response(status=404, body="no such route", headers=_TEXT)
        if response.reset or response.truncate_to is not None or response.stall_after is not None:
            self.close_connection = True  # a broken answer ends its connection
        if response.delay and feed._stopping.wait(response.delay):
            self.close_connection = True
            return
        if response.hold is not None and not feed._released(response.hold):
            self.close_connection = True
            return
        if response.reset:
            self._reset()
        elif _not_modified(self.headers, response):
            self._send_head(304, _validator_headers(response))
        else:
            self._send(response)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output clean; the request log is ``FeedServer.requests``."""

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST instead of a clean FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _send(self, response: Response) -> None:
        body, encoded = _payload(response)
        status = 302 if response.redirect_to and response.status == 200 else response.status
        headers = {"Content-Type": _content_type(body if not encoded else b"")}
        headers |= {"Content-Length": str(len(body)), **_validator_headers(response)}
        if encoded:
            headers["Content-Encoding"] = "gzip"
        if response.redirect_to:
            headers["Location"] = response.redirect_to
        self._send_head(status, headers | response.headers)
        if response.truncate_to is not None:
            body = body[: response.truncate_to]
        if response.stall_after is not None:
            self._write(body[: response.stall_after], response.trickle_bytes_per_sec)
            self.server.feed._stopping.wait()
            return
        self._write(body, response.trickle_bytes_per_sec)

    def _send_head(self, status: int, headers: Mapping[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Connection", "close" if self.close_connection else "keep-alive")
        self.end_headers()

    def _write(self, body: bytes, rate: float | None) -> None:
        if not rate:
            self.wfile.write(body)
            return
        step = 0.05
        piece = max(1, int(rate * step))
        for start in range(0, len(body), piece):
            self.wfile.write(body[start : start + piece])
            if self.server.feed._stopping.wait(step):
                self.close_connection = True
                return


_TEXT = {"Content-Type": "text/plain; charset=utf-8"}


def _payload(response: Response) -> tuple[bytes, bool]:
    """The bytes to send and whether they are gzip-encoded."""
    if response.gzip_bomb is not None:
        return _zeros_gzipped(response.gzip_bomb), True
    body = response.body.encode() if isinstance(response.body, str) else response.body
    if response.gzip:
        return gzip.compress(body), True
    return body, False


@functools.lru_cache(maxsize=4)
def _zeros_gzipped(size: int) -> bytes:
    """Gzip of ``size`` zero bytes, built in 1 MiB steps (a 1 GiB bomb is ~1 MiB)."""
    chunk = bytes(1024 * 1024)
    with tempfile.SpooledTemporaryFile() as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9) as stream:
            for start in range(0, size, len(chunk)):
                stream.write(chunk[: min(len(chunk), size - start)])
        raw.seek(0)
        return raw.read()


def _content_type(body: bytes) -> str:
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:20].upper()
    if head.startswith(b"BEGIN:VCALENDAR"):
        return "text/calendar; charset=utf-8"
    if head.startswith(b"<"):
        return "text/html; charset=utf-8"
    return "text/plain; charset=utf-8"


def _validator_headers(response: Response) -> dict[str, str]:
    headers = {}
    if response.etag:
        headers["ETag"] = response.etag
    if response.last_modified:
        headers["Last-Modified"] = response.last_modified
    return headers


def _not_modified(request_headers: Any, response: Response) -> bool:
    """The conditional-GET rules a real server applies, reduced to string equality."""
    if response.status != 200 or response.reset:
        return False
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return response.etag is not None and (response.etag in tags or "*" in tags)
    since = request_headers.get("If-Modified-Since")
    return since is not None and since == response.last_modified


# --- helpers for fetch tests -------------------------------------------------


def local_policy(**overrides: Any) -> FetchPolicy:
    """A FetchPolicy that may reach this server: loopback allowed, any port."""
    settings: dict[str, Any] = {"allow_private": True, "allowed_ports": None}
    return FetchPolicy(**(settings | overrides))


def static_resolver(names: Mapping[str, Sequence[str]]) -> Resolver:
    """A resolver for FetchPolicy that knows only ``names``; others fail like DNS."""

    def resolve(host: str, port: int) -> list[str]:
        try:
            return list(names[host.lower()])
        except KeyError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None

    return resolve


# --- pytest fixtures -----------------------------------------------------------


@dataclass(frozen=True)
class FeedCA:
    """The session's test CA and the PEM bundle REQUESTS_CA_BUNDLE points at."""

    ca: trustme.CA
    bundle_path: Path


@pytest.fixture(scope="session")
def feed_ca(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedCA]:
    """A test CA trusted by every fetch in the session (via REQUESTS_CA_BUNDLE)."""
    ca = trustme.CA()
    path = tmp_path_factory.mktemp("feed-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    previous = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(path)
    try:
        yield FeedCA(ca, path)
    finally:
        if previous is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = previous


@pytest.fixture
def feed_server(feed_ca: FeedCA) -> Iterator[FeedServer]:
    """A fresh HTTPS feed server for one test, signed by ``feed_ca``.

    The fetch's kept-alive connections are closed afterwards, so none
    outlives the test (and no later test can be served by one).
    """
    with FeedServer(ca=feed_ca.ca) as server:
        try:
            yield server
        finally:
            close_pools()
