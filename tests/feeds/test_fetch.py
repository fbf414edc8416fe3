"""The guarded fetch against a real local HTTPS server.

Every refusal is shown twice where it matters: the address rule on its own,
and through ``fetch_feed`` with a resolver that hands out the address — and
no connection is attempted. Only loopback is ever contacted: the
``connections`` fixture fails the test on any other destination.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import ipaddress
import logging
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import trustme

from app.errors import FeedError, FeedErrorKind
from app.feeds import fetch_policy
from app.feeds.fetch import (
    ACCEPT,
    FetchPolicy,
    address_allowed,
    check_calendar_body,
    classify_address,
    fetch_feed,
    is_public_address,
    looks_like_calendar,
    redact_url,
    scrub_text,
    warn_if_private_allowed,
)
from tests.support.feed_server import (
    FAKE_PUBLIC_HOST,
    FeedServer,
    Response,
    local_policy,
    static_resolver,
)

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook 16.0//EN\r\n"
    "BEGIN:VEVENT\r\nUID:1\r\nDTSTART:20250101T090000Z\r\nDTEND:20250101T100000Z\r\n"
    "SUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
TOKEN = "e0c6a1d2f3b44c5d9e8f7a6b5c4d3e2f1029384756"
SECRET_PATH = f"/owa/calendar/0f1e2d3c@contoso.com/{TOKEN}/calendar.ics"
SIGN_IN_PAGE = "<!DOCTYPE html><html><head><title>Sign in to your account</title></head></html>"

BLOCKED = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "100.127.255.254",
    "224.0.0.1",
    "239.255.255.250",
    "0.0.0.0",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.2.10",
    "198.51.100.10",
    "203.0.113.10",
    "198.18.0.1",
    "::",
    "::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::127.0.0.1",
    "::10.0.0.1",
    "fc00::1",
    "fd12:3456:789a::1",
    "fe80::1",
    "fe80::1%eth0",
    "fec0::1",
    "ff02::1",
    "2001:db8::1",
    "2002:a00:1::1",  # 6to4 wrapping 10.0.0.1
    "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
    "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 wrapping 169.254.169.254
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "52.96.0.1", "2606:4700:4700::1111", "64:ff9b::808:808"]
NEVER_EVEN_IF_PRIVATE_ALLOWED = [
    "169.254.169.254",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::",
    "fe80::1",
    "ff02::1",
    "::ffff:169.254.169.254",
]


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a socket connects to; anything but loopback fails the test."""
    made: list[str] = []
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> None:
        host = str(address[0]).split("%")[0]
        assert ipaddress.ip_address(host).is_loopback, f"tried to leave the machine: {host}"
        made.append(host)
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return made


def counting(resolver: Callable[[str, int], list[str]]) -> tuple[Any, list[str]]:
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return resolver(host, port)

    return resolve, calls


def public_name_policy(server: FeedServer, **overrides: Any) -> FetchPolicy:
    """FAKE_PUBLIC_HOST resolves to 127.0.0.1, the only non-public network allowed."""
    settings: dict[str, Any] = {
        "resolver": static_resolver(
            {FAKE_PUBLIC_HOST: ["127.0.0.1"], "internal.timepulse.test": ["192.168.0.10"]}
        ),
        "allowed_networks": (ipaddress.ip_network("127.0.0.0/8"),),
        "allowed_ports": frozenset({443, server.port}),
    }
    return FetchPolicy(**(settings | overrides))


def fetch_error(url: str, **kwargs: Any) -> FeedError:
    with pytest.raises(FeedError) as caught:
        fetch_feed(url, **kwargs)
    return caught.value


# --- the address rules ------------------------------------------------------


@pytest.mark.parametrize("address", BLOCKED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public_address(address)
    assert not address_allowed(address, FetchPolicy())


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert classify_address(address) == "public"
    assert address_allowed(address, FetchPolicy())


@pytest.mark.parametrize("address", NEVER_EVEN_IF_PRIVATE_ALLOWED)
def test_metadata_link_local_and_multicast_stay_refused_when_private_is_allowed(
    address: str,
) -> None:
    assert not address_allowed(address, FetchPolicy(allow_private=True))


def test_allow_private_admits_loopback_and_private_networks() -> None:
    policy = FetchPolicy(allow_private=True)
    assert all(address_allowed(a, policy) for a in ["127.0.0.1", "10.0.0.1", "::1", "fd00::1"])


def test_allowed_networks_admit_only_those_networks() -> None:
    policy = FetchPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    assert address_allowed("127.0.0.1", policy)
    assert not address_allowed("10.0.0.1", policy)
    assert not address_allowed("169.254.169.254", policy)


@pytest.mark.parametrize("address", BLOCKED)
def test_fetch_refuses_a_name_resolving_to_a_non_public_address(
    address: str, connections: list[str]
) -> None:
    policy = FetchPolicy(resolver=static_resolver({"calendar.example.com": [address]}))
    error = fetch_error(f"https://calendar.example.com{SECRET_PATH}", policy=policy)
    assert error.kind is FeedErrorKind.BLOCKED_ADDRESS
    assert "private or internal network" in error.message
    assert connections == []


def test_fetch_refuses_when_any_resolved_address_is_not_public(connections: list[str]) -> None:
    resolver = static_resolver({"calendar.example.com": ["52.96.0.1", "10.0.0.1"]})
    error = fetch_error("https://calendar.example.com/c.ics", policy=FetchPolicy(resolver=resolver))
    assert error.kind is FeedErrorKind.BLOCKED_ADDRESS
    assert connections == []


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/calendar.ics",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/calendar.ics",
        "https://[::ffff:127.0.0.1]/calendar.ics",
        "https://0.0.0.0/calendar.ics",
    ],
)
def test_fetch_refuses_literal_private_addresses_without_resolving(
    url: str, connections: list[str]
) -> None:
    resolver, calls = counting(static_resolver({}))
    error = fetch_error(url, policy=FetchPolicy(resolver=resolver))
    assert error.kind is FeedErrorKind.BLOCKED_ADDRESS
    assert calls == [] and connections == []


# --- the URL rules -------------------------------------------------------------


def test_http_is_refused() -> None:
    error = fetch_error("http://outlook.office365.com/owa/calendar/x/calendar.ics")
    assert error.kind is FeedErrorKind.INSECURE_URL
    assert "https://" in error.message


def test_user_name_in_url_is_refused() -> None:
    error = fetch_error("https://ada:secret@outlook.office365.com/calendar.ics")
    assert error.kind is FeedErrorKind.INVALID_URL
    assert "user name or password" in error.message


def test_other_ports_are_refused_before_resolving(connections: list[str]) -> None:
    resolver, calls = counting(static_resolver({"calendar.example.com": ["52.96.0.1"]}))
    error = fetch_error(
        "https://calendar.example.com:8443/c.ics", policy=FetchPolicy(resolver=resolver)
    )
    assert error.kind is FeedErrorKind.BLOCKED_PORT
    assert "443" in error.message
    assert calls == [] and connections == []


def test_unknown_host_is_a_dns_error() -> None:
    error = fetch_error(
        "https://nowhere.example.com/c.ics", policy=FetchPolicy(resolver=static_resolver({}))
    )
    assert error.kind is FeedErrorKind.DNS
    assert "could not be found" in error.message


def test_default_policy_refuses_the_local_server(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS)
    assert fetch_error(feed_server.url("/c.ics")).kind is FeedErrorKind.BLOCKED_PORT
    port_only = FetchPolicy(allowed_ports=frozenset({feed_server.port}))
    error = fetch_error(feed_server.url("/c.ics"), policy=port_only)
    assert error.kind is FeedErrorKind.BLOCKED_ADDRESS
    assert feed_server.hits("/c.ics") == 0


# --- a good fetch ----------------------------------------------------------------


def test_fetch_returns_body_hash_and_validators(feed_server: FeedServer) -> None:
    modified = "Wed, 01 Jan 2025 08:00:00 GMT"
    feed_server.route("/c.ics", body=ICS, etag='"v1"', last_modified=modified)
    result = fetch_feed(feed_server.url("/c.ics"), policy=local_policy())
    assert result.status == 200 and not result.not_modified
    assert result.body == ICS.encode()
    assert result.sha256 is not None and len(result.sha256) == 64
    assert (result.etag, result.last_modified) == ('"v1"', modified)
    assert result.content_type == "text/calendar; charset=utf-8"
    assert result.elapsed > 0


def test_body_hash_is_computed_only_when_asked_for(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS)
    result = fetch_feed(feed_server.url("/c.ics"), policy=local_policy())
    assert "sha256" not in {f.name for f in dataclasses.fields(result)}
    assert result.sha256 == hashlib.sha256(ICS.encode()).hexdigest()


@pytest.mark.parametrize("encoding", [None, "identity", "gzip"])
def test_a_large_body_arrives_whole_in_many_reads(
    feed_server: FeedServer, encoding: str | None
) -> None:
    # Far more than one network read (a TLS record is at most 16 KiB).
    big = ICS.replace("SUMMARY:Standup", "SUMMARY:" + "Stand-up ".join(map(str, range(60_000))))
    headers = {"Content-Encoding": "identity"} if encoding == "identity" else None
    feed_server.route("/c.ics", body=big, gzip=encoding == "gzip", headers=headers)
    assert fetch_feed(feed_server.url("/c.ics"), policy=local_policy()).body == big.encode()


def test_fetch_sends_browser_like_headers(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS)
    fetch_feed(feed_server.url("/c.ics"), policy=local_policy())
    (request,) = feed_server.requests
    agent = request.header("User-Agent") or ""
    assert agent.startswith("Mozilla/5.0") and "Chrome/" in agent
    assert request.header("Accept") == ACCEPT
    assert "gzip" in (request.header("Accept-Encoding") or "")
    assert request.header("Host") == f"localhost:{feed_server.port}"


def test_gzip_encoded_calendar_is_decoded(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS, gzip=True)
    assert fetch_feed(feed_server.url("/c.ics"), policy=local_policy()).body == ICS.encode()


def test_conditional_get_round_trip(feed_server: FeedServer) -> None:
    modified = "Wed, 01 Jan 2025 08:00:00 GMT"
    feed_server.route("/c.ics", body=ICS, etag='"v1"', last_modified=modified)
    first = fetch_feed(feed_server.url("/c.ics"), policy=local_policy())
    again = fetch_feed(
        feed_server.url("/c.ics"),
        etag=first.etag,
        last_modified=first.last_modified,
        policy=local_policy(),
    )
    assert again.not_modified and again.status == 304
    assert (again.body, again.sha256) == (b"", None)
    assert (again.etag, again.last_modified) == ('"v1"', modified)
    second = feed_server.requests[1]
    assert second.header("If-None-Match") == '"v1"'
    assert second.header("If-Modified-Since") == modified


def test_changed_calendar_is_fetched_in_full(feed_server: FeedServer) -> None:
    feed_server.script(
        "/c.ics", [Response(body=ICS, etag='"v1"'), Response(body=ICS + "\r\n", etag='"v2"')]
    )
    first = fetch_feed(feed_server.url("/c.ics"), policy=local_policy())
    second = fetch_feed(feed_server.url("/c.ics"), etag=first.etag, policy=local_policy())
    assert not second.not_modified and second.etag == '"v2"'
    assert second.sha256 != first.sha256


def test_connects_to_the_vetted_address_with_one_lookup(
    feed_server: FeedServer, connections: list[str]
) -> None:
    # 127.0.0.2 refuses (the server listens on 127.0.0.1): the next vetted address is tried.
    resolver, calls = counting(static_resolver({FAKE_PUBLIC_HOST: ["127.0.0.2", "127.0.0.1"]}))
    feed_server.route("/c.ics", body=ICS)
    policy = public_name_policy(feed_server, resolver=resolver)
    result = fetch_feed(feed_server.url("/c.ics", host=FAKE_PUBLIC_HOST), policy=policy)
    assert result.body == ICS.encode()
    assert calls == [FAKE_PUBLIC_HOST]
    assert connections == ["127.0.0.2", "127.0.0.1"]
    assert feed_server.requests[0].header("Host") == f"{FAKE_PUBLIC_HOST}:{feed_server.port}"


def test_proxy_settings_are_ignored(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    feed_server.route("/c.ics", body=ICS)
    assert fetch_feed(feed_server.url("/c.ics"), policy=local_policy()).status == 200


# --- redirects ---------------------------------------------------------------------


def test_three_redirects_are_followed(feed_server: FeedServer) -> None:
    feed_server.route("/r1", redirect_to=feed_server.url("/r2"))
    feed_server.route("/r2", redirect_to="/r3", status=301)
    feed_server.route("/r3", redirect_to="c.ics", status=307)
    feed_server.route("/c.ics", body=ICS)
    assert fetch_feed(feed_server.url("/r1"), policy=local_policy()).body == ICS.encode()


def test_four_redirects_are_too_many(feed_server: FeedServer) -> None:
    for hop in range(1, 5):
        feed_server.route(f"/r{hop}", redirect_to=f"/r{hop + 1}")
    feed_server.route("/r5", body=ICS)
    error = fetch_error(feed_server.url("/r1"), policy=local_policy())
    assert error.kind is FeedErrorKind.TOO_MANY_REDIRECTS
    assert feed_server.hits("/r4") == 1 and feed_server.hits("/r5") == 0


@pytest.mark.parametrize(
    "target",
    [
        "https://10.0.0.1/calendar.ics",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:10.0.0.1]/calendar.ics",
        "https://internal.timepulse.test/calendar.ics",
    ],
)
def test_redirect_into_private_space_is_refused(
    feed_server: FeedServer, connections: list[str], target: str
) -> None:
    feed_server.route("/c.ics", redirect_to=target)
    url = feed_server.url("/c.ics", host=FAKE_PUBLIC_HOST)
    error = fetch_error(url, policy=public_name_policy(feed_server))
    assert error.kind is FeedErrorKind.BLOCKED_ADDRESS
    assert "redirected" in error.message
    assert set(connections) == {"127.0.0.1"}


@pytest.mark.parametrize(
    ("target", "kind"),
    [
        ("http://feeds.timepulse.test/calendar.ics", FeedErrorKind.INSECURE_URL),
        ("https://feeds.timepulse.test:8443/calendar.ics", FeedErrorKind.BLOCKED_PORT),
        ("https://nowhere.timepulse.test/calendar.ics", FeedErrorKind.DNS),
    ],
)
def test_redirect_targets_are_checked_like_the_link(
    feed_server: FeedServer, target: str, kind: FeedErrorKind
) -> None:
    feed_server.route("/c.ics", redirect_to=target)
    url = feed_server.url("/c.ics", host=FAKE_PUBLIC_HOST)
    assert fetch_error(url, policy=public_name_policy(feed_server)).kind is kind


# --- limits ------------------------------------------------------------------------


def test_oversized_body_is_refused(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS + "X" * 5000)
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy(max_bytes=2000))
    assert error.kind is FeedErrorKind.TOO_LARGE


def test_size_cap_counts_decoded_bytes(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS + " " * 50_000, gzip=True)
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy(max_bytes=10_000))
    assert error.kind is FeedErrorKind.TOO_LARGE


def test_gzip_bomb_stops_at_the_default_cap(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", gzip_bomb=64 * 1024 * 1024)
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy())
    assert error.kind is FeedErrorKind.TOO_LARGE
    assert "20 MiB" in error.message


def test_trickling_body_fails_at_the_total_deadline(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS * 40, trickle=400)  # ~10 s to send in full
    started = time.monotonic()
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy(total_timeout=1.5))
    assert error.kind is FeedErrorKind.TIMEOUT
    assert 1.4 < time.monotonic() - started < 3.0


def test_stall_after_a_trickle_ends_at_the_deadline(feed_server: FeedServer) -> None:
    # Half a second of data, then silence: the wait for more must end at the
    # deadline, not a full read timeout after the last byte.
    feed_server.route("/c.ics", body=ICS * 10, trickle=200, stall_after=100)
    started = time.monotonic()
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy(total_timeout=1.5))
    assert error.kind is FeedErrorKind.TIMEOUT
    assert time.monotonic() - started < 1.8


def test_silent_server_times_out(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS, delay=5)
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy(total_timeout=0.5))
    assert error.kind is FeedErrorKind.TIMEOUT
    assert "too long" in error.message


# --- what came back -------------------------------------------------------------------


def test_sign_in_page_is_not_a_calendar(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=SIGN_IN_PAGE)
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy())
    assert error.kind is FeedErrorKind.NOT_CALENDAR
    assert "web page" in error.message and "sign-in" in error.message


@pytest.mark.parametrize(
    ("status", "headers", "kind"),
    [
        (404, {}, FeedErrorKind.HTTP_NOT_FOUND),
        (410, {}, FeedErrorKind.HTTP_NOT_FOUND),
        (403, {}, FeedErrorKind.HTTP_CLIENT),
        (
            500,
            {"X-OWA-Error": "Microsoft.Exchange.Data.Storage.ObjectNotFoundException"},
            FeedErrorKind.OWA_REFUSED,
        ),
        (500, {}, FeedErrorKind.HTTP_SERVER),
        (503, {"Retry-After": "120"}, FeedErrorKind.HTTP_SERVER),
    ],
)
def test_http_status_mapping(
    feed_server: FeedServer, status: int, headers: dict[str, str], kind: FeedErrorKind
) -> None:
    feed_server.route("/c.ics", body="<html>error</html>", status=status, headers=headers)
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy())
    assert (error.kind, error.status) == (kind, status)
    assert str(status) in error.message


def test_owa_refusal_says_what_to_do(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", status=500, headers={"X-OWA-Error": "ObjectNotFound"})
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy())
    assert "Office 365" in error.message and "publish the calendar again" in error.message


def test_connection_reset_is_a_network_error(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", reset=True)
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy())
    assert error.kind is FeedErrorKind.NETWORK


def test_truncated_body_is_a_network_error(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS, truncate_to=20)
    error = fetch_error(feed_server.url("/c.ics"), policy=local_policy())
    assert error.kind is FeedErrorKind.NETWORK
    assert "broke off" in error.message


def test_connection_refused_is_a_network_error() -> None:
    error = fetch_error(f"https://localhost:{unused_port()}/c.ics", policy=local_policy())
    assert error.kind is FeedErrorKind.NETWORK
    assert "Could not connect" in error.message


def test_untrusted_certificate_is_a_tls_error(feed_ca: Any) -> None:
    with FeedServer(ca=trustme.CA()) as stranger:
        stranger.route("/c.ics", body=ICS)
        error = fetch_error(stranger.url("/c.ics"), policy=local_policy())
        assert stranger.hits("/c.ics") == 0
    assert error.kind is FeedErrorKind.TLS


def test_certificate_must_match_the_name_not_the_address(feed_server: FeedServer) -> None:
    feed_server.route("/c.ics", body=ICS)
    policy = public_name_policy(
        feed_server, resolver=static_resolver({"other.timepulse.test": ["127.0.0.1"]})
    )
    error = fetch_error(feed_server.url("/c.ics", host="other.timepulse.test"), policy=policy)
    assert error.kind is FeedErrorKind.TLS


def test_ca_bundle_comes_from_requests_ca_bundle(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feed_server.route("/c.ics", body=ICS)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    assert fetch_error(feed_server.url("/c.ics"), policy=local_policy()).kind is FeedErrorKind.TLS
    policy = local_policy(ca_bundle=str(feed_server.ca_bundle_path))
    assert fetch_feed(feed_server.url("/c.ics"), policy=policy).status == 200


# --- the URL stays secret ----------------------------------------------------------------


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _secret_url(server: FeedServer, host: str = "localhost") -> str:
    return server.url(SECRET_PATH, host=host) + f"?token={TOKEN[::-1]}"


SCENARIOS: dict[str, Callable[[FeedServer], tuple[str, FetchPolicy]]] = {
    "insecure": lambda s: (_secret_url(s).replace("https:", "http:"), local_policy()),
    "userinfo": lambda s: (_secret_url(s).replace("//", "//ada:pw@"), local_policy()),
    "port": lambda s: (_secret_url(s), FetchPolicy()),
    "address": lambda s: (_secret_url(s), FetchPolicy(allowed_ports=None)),
    "dns": lambda s: (_secret_url(s, "gone.timepulse.test"), public_name_policy(s)),
    "refused": lambda s: (
        _secret_url(s).replace(str(s.port), str(unused_port())),
        local_policy(),
    ),
    "tls": lambda s: (
        _secret_url(s, "other.timepulse.test"),
        public_name_policy(s, resolver=static_resolver({"other.timepulse.test": ["127.0.0.1"]})),
    ),
    "http": lambda s: (_secret_url(s), local_policy()),
}
RESPONSES = {
    "not_found": Response(status=404),
    "owa": Response(status=500, headers={"X-OWA-Error": "x"}),
    "server": Response(status=503),
    "client": Response(status=401),
    "reset": Response(reset=True),
    "truncated": Response(body=ICS, truncate_to=10),
    "too_large": Response(body=ICS * 100),
    "not_calendar": Response(body=SIGN_IN_PAGE),
    "timeout": Response(body=ICS, delay=3),
    "redirect_loop": Response(redirect_to=SECRET_PATH + f"?token={TOKEN}"),
    "redirect_private": Response(redirect_to=f"https://10.0.0.1{SECRET_PATH}"),
}


@pytest.fixture(params=[*SCENARIOS, *RESPONSES])
def failing_fetch(
    request: pytest.FixtureRequest, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> Iterator[tuple[FeedError, str]]:
    """A failed fetch of a secret URL, and everything logged while it ran."""
    caplog.set_level(logging.DEBUG)
    name = request.param
    if name in RESPONSES:
        feed_server.script(SECRET_PATH, [RESPONSES[name]])
        url, policy = _secret_url(feed_server), local_policy(max_bytes=1000, total_timeout=0.5)
        if name == "redirect_private":
            url = _secret_url(feed_server, FAKE_PUBLIC_HOST)
            policy = public_name_policy(feed_server)
    else:
        url, policy = SCENARIOS[name](feed_server)
        if name == "http":
            feed_server.script(SECRET_PATH, [Response(status=400)])
    error = fetch_error(url, policy=policy)
    yield error, caplog.text


def test_no_error_reveals_the_url(failing_fetch: tuple[FeedError, str]) -> None:
    error, logged = failing_fetch
    shown = [error.message, error.detail, str(error), repr(error), logged]
    shown += traceback.format_exception(error)
    for text in shown:
        assert TOKEN not in text and TOKEN[::-1] not in text and "contoso" not in text
    assert error.message.strip() and error.message[0].isupper()


def test_every_failure_kind_is_covered_by_the_secrecy_test() -> None:
    # One scenario per kind the fetch can raise (PARSE and HTML_LINK are not fetch's).
    kinds = set(FeedErrorKind) - {FeedErrorKind.PARSE, FeedErrorKind.HTML_LINK}
    assert len(SCENARIOS) + len(RESPONSES) >= len(kinds)


def test_library_messages_are_scrubbed() -> None:
    url = f"https://outlook.office365.com{SECRET_PATH}?token=abcdef123456"
    text = f"Max retries exceeded with url: {SECRET_PATH}?token=abcdef123456 (caused by {url})"
    cleaned = scrub_text(text, [url])
    assert TOKEN not in cleaned and "abcdef123456" not in cleaned
    assert "contoso" not in cleaned


# --- redaction, policy, body checks ------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://outlook.office365.com{SECRET_PATH}", "https://outlook.office365.com/…ndar.ics"),
        ("https://ada:pw@cal.example.com:8443/abcdefghijkl", "https://cal.example.com:8443/…ijkl"),
        ("https://cal.example.com/", "https://cal.example.com/"),
        ("not a url", "[hidden link]"),
        ("https://[::1", "[hidden link]"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_policy_defaults_are_the_production_rules() -> None:
    policy = FetchPolicy.from_env({})
    assert policy == FetchPolicy()
    assert (policy.allow_private, policy.allowed_ports) == (False, frozenset({443}))
    assert (policy.max_bytes, policy.max_redirects) == (20 * 1024 * 1024, 3)


def test_policy_from_env() -> None:
    policy = FetchPolicy.from_env(
        {
            "TIMEPULSE_ALLOW_PRIVATE_FEEDS": "1",
            "TIMEPULSE_FETCH_TIMEOUT": "5",
            "TIMEPULSE_FEED_MAX_BYTES": "1000",
            "TIMEPULSE_FEED_ALLOWED_NETWORKS": "10.1.0.0/16",
        }
    )
    assert policy.allow_private and policy.allowed_ports is None
    assert (policy.total_timeout, policy.connect_timeout, policy.max_bytes) == (5.0, 5.0, 1000)
    assert policy.allowed_networks == (ipaddress.ip_network("10.1.0.0/16"),)
    ports = FetchPolicy.from_env({"TIMEPULSE_FEED_PORTS": "443, 8443"}).allowed_ports
    assert ports == frozenset({443, 8443})


@pytest.mark.parametrize(
    "environ",
    [
        {"TIMEPULSE_FEED_PORTS": "https"},
        {"TIMEPULSE_FEED_PORTS": "70000"},
        {"TIMEPULSE_FETCH_TIMEOUT": "soon"},
        {"TIMEPULSE_FEED_MAX_BYTES": "-1"},
        {"TIMEPULSE_FEED_ALLOWED_NETWORKS": "intranet"},
    ],
)
def test_bad_settings_are_refused_at_start_up(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="TIMEPULSE_"):
        FetchPolicy.from_env(environ)


def test_private_feeds_warning_is_logged_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fetch_policy, "_private_warning_logged", False)
    caplog.set_level(logging.WARNING, logger="timepulse.feeds.fetch")
    assert not warn_if_private_allowed(FetchPolicy())
    assert warn_if_private_allowed(FetchPolicy(allow_private=True))
    assert not warn_if_private_allowed(FetchPolicy(allow_private=True))
    assert [r.name for r in caplog.records] == ["timepulse.feeds.fetch"]
    assert "TIMEPULSE_ALLOW_PRIVATE_FEEDS" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        ICS.encode(),
        b"\xef\xbb\xbf" + ICS.encode(),
        b"\r\n  \t" + ICS.lower().encode(),
        ICS.encode("utf-16"),
    ],
)
def test_calendars_are_recognised(body: bytes) -> None:
    assert looks_like_calendar(body)
    check_calendar_body(body)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (SIGN_IN_PAGE.encode(), "web page"),
        (b"", "empty"),
        (b"   \r\n", "empty"),
        (b"BEGIN:VCARD\r\nEND:VCARD\r\n", "BEGIN:VCALENDAR"),
        (gzip.compress(ICS.encode()), "BEGIN:VCALENDAR"),
    ],
)
def test_other_bodies_are_not_calendars(body: bytes, words: str) -> None:
    assert not looks_like_calendar(body)
    with pytest.raises(FeedError) as caught:
        check_calendar_body(body)
    assert caught.value.kind is FeedErrorKind.NOT_CALENDAR
    assert words in caught.value.message
