"""Kept-alive connections reused between fetches, without loosening the guard.

A pooled connection serves a fetch only when it was opened to the same vetted
address and port, for the same name and CA bundle; the fetch's own deadline
and size cap apply to it; an answer not read to the end closes it. The
server keeps connections alive like a real one, and its request log tells
connections apart by the client's port. Only loopback is ever contacted.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3.connectionpool

from app.errors import FeedError, FeedErrorKind
from app.feeds import pools
from app.feeds.fetch import FetchPolicy, close_pools, fetch_feed
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


@pytest.fixture
def server(feed_ca: Any) -> Iterator[FeedServer]:
    """A feed server that keeps connections alive (5 s idle), like Office 365."""
    close_pools()
    with FeedServer(ca=feed_ca.ca, keep_alive=5) as kept:
        try:
            yield kept
        finally:
            close_pools()


def ports(server: FeedServer) -> list[int]:
    return [request.client_port for request in server.requests]


def name_policy(server: FeedServer, addresses: list[str], **overrides: Any) -> FetchPolicy:
    """FAKE_PUBLIC_HOST resolves to ``addresses``; 127.0.0.0/8 is allowed."""
    settings: dict[str, Any] = {
        "resolver": static_resolver({FAKE_PUBLIC_HOST: addresses}),
        "allowed_networks": (ipaddress.ip_network("127.0.0.0/8"),),
        "allowed_ports": frozenset({server.port}),
    }
    return FetchPolicy(**(settings | overrides))


def test_two_fetches_of_one_feed_share_one_connection(
    server: FeedServer, connections: list[str]
) -> None:
    server.route("/c.ics", body=ICS, etag='"v1"')
    first = fetch_feed(server.url("/c.ics"), policy=local_policy())
    again = fetch_feed(server.url("/c.ics"), etag=first.etag, policy=local_policy())
    assert again.not_modified
    third = fetch_feed(server.url("/c.ics"), policy=local_policy())
    assert third.body == ICS.encode()
    assert len(set(ports(server))) == 1 and len(server.requests) == 3
    assert connections == ["127.0.0.1"]


def test_the_feed_server_tells_connections_apart(feed_server: FeedServer) -> None:
    # The default server closes every connection: each fetch is a new one.
    feed_server.route("/c.ics", body=ICS)
    fetch_feed(feed_server.url("/c.ics"), policy=local_policy())
    fetch_feed(feed_server.url("/c.ics"), policy=local_policy())
    first, second = ports(feed_server)
    assert first != second and first > 0 and second > 0


def test_another_address_for_the_same_name_gets_no_pooled_connection(
    server: FeedServer, connections: list[str]
) -> None:
    server.route("/c.ics", body=ICS)
    url = server.url("/c.ics", host=FAKE_PUBLIC_HOST)
    fetch_feed(url, policy=name_policy(server, ["127.0.0.1"]))
    # Now the name resolves to 127.0.0.2, where nothing listens: the fetch must
    # dial it (and fail) rather than use the connection open to 127.0.0.1.
    with pytest.raises(FeedError) as caught:
        fetch_feed(url, policy=name_policy(server, ["127.0.0.2"]))
    assert caught.value.kind is FeedErrorKind.NETWORK
    assert connections == ["127.0.0.1", "127.0.0.2"]
    assert len(server.requests) == 1
    # Back to an answer that includes 127.0.0.1: its own pooled connection serves.
    fetch_feed(url, policy=name_policy(server, ["127.0.0.2", "127.0.0.1"]))
    assert connections == ["127.0.0.1", "127.0.0.2", "127.0.0.2"]
    assert len(set(ports(server))) == 1


def test_another_name_on_the_same_address_gets_its_own_connection(
    server: FeedServer, connections: list[str]
) -> None:
    server.route("/c.ics", body=ICS)
    fetch_feed(server.url("/c.ics"), policy=local_policy())  # localhost → 127.0.0.1
    policy = name_policy(server, ["127.0.0.1"])
    fetch_feed(server.url("/c.ics", host=FAKE_PUBLIC_HOST), policy=policy)
    fetch_feed(server.url("/c.ics", host=FAKE_PUBLIC_HOST), policy=policy)
    first, second, third = ports(server)
    assert first != second == third
    hosts = [request.header("Host") for request in server.requests]
    assert hosts[1:] == [f"{FAKE_PUBLIC_HOST}:{server.port}"] * 2


def test_another_ca_bundle_gets_its_own_connection(server: FeedServer, feed_ca: Any) -> None:
    server.route("/c.ics", body=ICS)
    fetch_feed(server.url("/c.ics"), policy=local_policy(ca_bundle=str(feed_ca.bundle_path)))
    other_copy = str(server.ca_bundle_path)  # the same CA in another file
    fetch_feed(server.url("/c.ics"), policy=local_policy(ca_bundle=other_copy))
    first, second = ports(server)
    assert first != second


def test_the_deadline_holds_on_a_reused_connection(server: FeedServer) -> None:
    server.script(
        "/c.ics", [Response(body=ICS), Response(body=ICS * 40, trickle_bytes_per_sec=400)]
    )
    fetch_feed(server.url("/c.ics"), policy=local_policy())
    started = time.monotonic()
    with pytest.raises(FeedError) as caught:
        fetch_feed(server.url("/c.ics"), policy=local_policy(total_timeout=1.5))
    assert caught.value.kind is FeedErrorKind.TIMEOUT
    assert 1.4 < time.monotonic() - started < 3.0
    first, second = ports(server)
    assert first == second  # the trickle came over the reused connection


def test_a_silent_answer_on_a_reused_connection_ends_at_the_deadline(server: FeedServer) -> None:
    server.script("/c.ics", [Response(body=ICS), Response(body=ICS, delay=5)])
    fetch_feed(server.url("/c.ics"), policy=local_policy())
    started = time.monotonic()
    with pytest.raises(FeedError) as caught:
        fetch_feed(server.url("/c.ics"), policy=local_policy(total_timeout=0.5))
    assert caught.value.kind is FeedErrorKind.TIMEOUT
    assert time.monotonic() - started < 1.5
    assert len(set(ports(server))) == 1


def test_a_reused_connection_gets_the_new_fetch_s_deadline_not_the_old_one(
    server: FeedServer,
) -> None:
    # The first fetch has 0.6 s; the second, 10 s, is answered after 1 s on the
    # same connection: the first fetch's timeouts must not cut it short.
    server.script("/c.ics", [Response(body=ICS), Response(body=ICS, delay=1.0)])
    fetch_feed(server.url("/c.ics"), policy=local_policy(total_timeout=0.6))
    assert fetch_feed(server.url("/c.ics"), policy=local_policy(total_timeout=10)).body
    first, second = ports(server)
    assert first == second


def test_an_oversized_answer_closes_its_connection(server: FeedServer) -> None:
    server.script("/c.ics", [Response(body=ICS * 200), Response(body=ICS)])
    with pytest.raises(FeedError) as caught:
        fetch_feed(server.url("/c.ics"), policy=local_policy(max_bytes=1000))
    assert caught.value.kind is FeedErrorKind.TOO_LARGE
    fetch_feed(server.url("/c.ics"), policy=local_policy())
    first, second = ports(server)
    assert first != second


def test_an_oversized_gzip_answer_read_in_part_closes_its_connection(server: FeedServer) -> None:
    # Random text barely compresses: the cap is hit long before the last byte.
    big = ICS + "X-NOISE:" + secrets.token_hex(500_000)
    server.script("/c.ics", [Response(body=big, gzip=True), Response(body=ICS)])
    with pytest.raises(FeedError) as caught:
        fetch_feed(server.url("/c.ics"), policy=local_policy(max_bytes=50_000))
    assert caught.value.kind is FeedErrorKind.TOO_LARGE
    fetch_feed(server.url("/c.ics"), policy=local_policy())
    first, second = ports(server)
    assert first != second


def test_a_timed_out_answer_closes_its_connection(server: FeedServer) -> None:
    server.script(
        "/c.ics", [Response(body=ICS * 40, trickle_bytes_per_sec=400), Response(body=ICS)]
    )
    with pytest.raises(FeedError):
        fetch_feed(server.url("/c.ics"), policy=local_policy(total_timeout=0.5))
    fetch_feed(server.url("/c.ics"), policy=local_policy())
    first, second = ports(server)
    assert first != second


def test_short_error_and_redirect_answers_keep_the_connection(server: FeedServer) -> None:
    server.route("/gone.ics", status=500, body="Internal Server Error")
    server.route("/old.ics", redirect_to="/c.ics", status=301)
    server.route("/c.ics", body=ICS)
    with pytest.raises(FeedError):
        fetch_feed(server.url("/gone.ics"), policy=local_policy())
    assert fetch_feed(server.url("/old.ics"), policy=local_policy()).body == ICS.encode()
    assert len(server.requests) == 3 and len(set(ports(server))) == 1


def test_a_connection_the_server_closed_meanwhile_is_replaced(
    feed_ca: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server drops idle connections after 0.2 s. urllib3 usually notices
    # before sending; pretend it did not, as when the close crosses the request.
    with FeedServer(ca=feed_ca.ca, keep_alive=0.2) as server:
        try:
            server.route("/c.ics", body=ICS)
            fetch_feed(server.url("/c.ics"), policy=local_policy())
            time.sleep(0.5)
            monkeypatch.setattr(urllib3.connectionpool, "is_connection_dropped", lambda conn: False)
            assert fetch_feed(server.url("/c.ics"), policy=local_policy()).body == ICS.encode()
            first, second = ports(server)
            assert first != second
        finally:
            close_pools()


def test_pools_are_bounded_and_least_recently_used_go_first(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pools, "_POOL_KEYS", 2)
    server.route("/c.ics", body=ICS)
    names = ["localhost", "127.0.0.1", FAKE_PUBLIC_HOST]
    policy = name_policy(
        server,
        ["127.0.0.1"],
        resolver=static_resolver({"localhost": ["127.0.0.1"], FAKE_PUBLIC_HOST: ["127.0.0.1"]}),
    )
    for host in names:
        fetch_feed(server.url("/c.ics", host=host), policy=policy)
    assert len(pools._pools) == 2
    fetch_feed(server.url("/c.ics", host="localhost"), policy=policy)  # evicted: a new connection
    fetch_feed(server.url("/c.ics", host=FAKE_PUBLIC_HOST), policy=policy)  # still pooled
    p = ports(server)
    assert len(set(p[:3])) == 3 and p[3] not in p[:3] and p[4] == p[2]


def test_concurrent_fetches_share_pools_safely(server: FeedServer) -> None:
    server.route("/c.ics", body=ICS)
    bodies: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(5):
                bodies.append(fetch_feed(server.url("/c.ics"), policy=local_policy()).body)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and bodies == [ICS.encode()] * 30
    (pool,) = pools._pools.values()
    assert pool.pool is not None and pool.pool.qsize() <= pools._POOL_SIZE


def test_a_forked_child_does_not_use_the_parent_s_connections(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.route("/c.ics", body=ICS)
    fetch_feed(server.url("/c.ics"), policy=local_policy())
    # What a child process sees: pools made under another process id.
    monkeypatch.setattr(pools, "_pools_pid", -1)
    fetch_feed(server.url("/c.ics"), policy=local_policy())
    first, second = ports(server)
    assert first != second
    assert pools._pools_pid == pools.os.getpid()


def test_a_pool_closed_under_a_fetch_is_replaced(server: FeedServer) -> None:
    # As when another thread evicts the pool between lookup and use.
    server.route("/c.ics", body=ICS)
    fetch_feed(server.url("/c.ics"), policy=local_policy())
    (pool,) = pools._pools.values()
    pool.close()
    assert fetch_feed(server.url("/c.ics"), policy=local_policy()).body == ICS.encode()
    first, second = ports(server)
    assert first != second
