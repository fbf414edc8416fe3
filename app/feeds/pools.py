"""Kept-alive connections, reused between fetches only where the guard's decision cannot differ.

A pool is keyed on everything a connection was vetted and verified for: the
vetted address, the port, the name (SNI and certificate check) and the CA
bundle. Every fetch still resolves and vets each hop itself; this module
only decides which already-open connection may carry the request. A forked
child never uses its parent's connections, and every pool is closed at exit.
"""

from __future__ import annotations

import atexit
import functools
import os
import ssl
import threading
from collections import OrderedDict
from typing import Any

import certifi
import urllib3
from urllib3.connection import HTTPSConnection
from urllib3.util.ssl_ import create_urllib3_context

from app.feeds.fetch_policy import FetchPolicy


class _DeadlineConnection(HTTPSConnection):
    """Keeps its socket reachable for the whole response.

    http.client hands the socket over to the response (``sock`` becomes None
    on a ``Connection: close`` answer); keeping it lets every body read be
    given only the time left before the deadline. ``connect`` runs again when
    a pooled connection has to be re-opened, so this is always the socket the
    current answer arrives on.
    """

    deadline_socket: Any = None

    def connect(self) -> None:
        super().connect()
        self.deadline_socket = self.sock


class _Pool(urllib3.HTTPSConnectionPool):
    """Kept-alive connections to one vetted address, for one name and one CA bundle."""

    ConnectionCls = _DeadlineConnection

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn: Any = super()._get_conn(timeout)  # drops a connection the server has closed
        _reuse.pooled = conn.sock is not None
        return conn

    def _put_conn(self, conn: Any) -> None:
        # Full when more fetches than _POOL_SIZE ran at once: close the extra
        # connection quietly instead of urllib3's warning for every one.
        pool = self.pool
        if conn is not None and pool is not None and pool.full():
            conn.close()
            return
        super()._put_conn(conn)


_POOL_KEYS = 32  # (address, port, name, CA bundle) combinations kept
_POOL_SIZE = 2  # idle connections kept per combination
_PoolKey = tuple[str, int, str, str | None, str | None, tuple[int, int] | None]
_pools: OrderedDict[_PoolKey, _Pool] = OrderedDict()
_pools_lock = threading.Lock()
_pools_pid = os.getpid()
_reuse = threading.local()  # pooled: whether the last connection taken was a kept-alive one
# A request whose kept-alive connection turns out closed goes out again, at
# most once per connection a pool keeps.
MAX_STALE_RETRIES = _POOL_SIZE


def took_kept_alive_connection() -> bool:
    """Whether this thread's last request went out on a connection kept from an earlier one."""
    return bool(getattr(_reuse, "pooled", False))


def pool_for(address: str, port: int, host: str, policy: FetchPolicy) -> _Pool:
    """The process's pool that dials ``address`` but speaks TLS to, and verifies, ``host``.

    Keyed on everything a connection was vetted and verified for: the
    address, the port, the name (SNI and certificate check) and the CA bundle
    (its path and version). A hop whose answer differs in any of them gets a
    pool, and so connections, of its own.

    Taking a pool starts a request on this thread: ``took_kept_alive_connection``
    is False until the pool hands out a connection.
    """
    _reuse.pooled = False
    ca_file, ca_dir = _ca_locations(policy)
    try:
        stat = os.stat(ca_file or ca_dir or "")
        version: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        version = None
    key: _PoolKey = (address, port, host, ca_file, ca_dir, version)
    evicted: list[_Pool] = []
    with _pools_lock:
        if _pools_pid != os.getpid():
            _forget_pools()
        pool = _pools.get(key)
        if pool is not None and pool.pool is not None:  # None: closed
            _pools.move_to_end(key)
            return pool
        pool = _new_pool(address, port, host, ca_file, ca_dir, policy)
        _pools[key] = pool
        while len(_pools) > _POOL_KEYS:
            evicted.append(_pools.popitem(last=False)[1])
    for old in evicted:
        old.close()  # idle connections now; those in use close when handed back
    return pool


def _new_pool(
    address: str,
    port: int,
    host: str,
    ca_file: str | None,
    ca_dir: str | None,
    policy: FetchPolicy,
) -> _Pool:
    context = _verifying_context(ca_file, ca_dir)
    # Without a ready context (the CA bundle cannot be read), urllib3 loads
    # the bundle itself and reports the failure as a TLS error, as it always did.
    trust: dict[str, Any] = (
        {"ssl_context": context} if context else {"ca_certs": ca_file, "ca_cert_dir": ca_dir}
    )
    return _Pool(
        address,
        port,
        # Every request passes its own fetch's timeouts; these are never used.
        timeout=urllib3.Timeout(connect=policy.connect_timeout, read=policy.total_timeout),
        maxsize=_POOL_SIZE,
        block=False,
        retries=False,
        cert_reqs="CERT_REQUIRED",
        server_hostname=host,
        assert_hostname=host,
        **trust,
    )


def close_pools() -> None:
    """Close every kept-alive connection of this process (tests, shutdown)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.close()


def _forget_pools() -> None:
    """In a forked child: never use the parent's kept-alive connections.

    The parent goes on using them, so the child only closes its own copies
    of the descriptors (a plain close sends no TLS or TCP shutdown: the
    parent's connections stay intact) and starts with no pools.
    """
    global _pools_lock, _pools_pid
    _pools_lock = threading.Lock()  # the parent's may have been held by another thread
    _pools_pid = os.getpid()
    inherited = list(_pools.values())
    _pools.clear()
    for pool in inherited:
        pool.close()


atexit.register(close_pools)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


def _verifying_context(ca_file: str | None, ca_dir: str | None) -> ssl.SSLContext | None:
    """urllib3's own verifying context with the CAs loaded, shared by every fetch.

    Building a context and loading a CA bundle (certifi's ~150 roots) cost
    more CPU than an unchanged refresh's whole TLS handshake; the result is
    the same every time, so it is built once per bundle (and again when the
    file changes). It only decides whom to trust: each fetch still dials the
    vetted address and urllib3 still checks the certificate against
    the fetch's host name (``assert_hostname``). None when the bundle cannot be read.
    """
    try:
        stat = os.stat(ca_file or ca_dir or "")
    except OSError:
        return None
    try:
        return _context_for(ca_file, ca_dir, stat.st_mtime_ns, stat.st_size)
    except (OSError, ssl.SSLError):
        return None


@functools.lru_cache(maxsize=8)
def _context_for(
    ca_file: str | None, ca_dir: str | None, _mtime_ns: int, _size: int
) -> ssl.SSLContext:
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.load_verify_locations(ca_file, ca_dir)
    return context


def _ca_locations(policy: FetchPolicy) -> tuple[str | None, str | None]:
    """CA file or directory: the policy's, else REQUESTS_CA_BUNDLE like requests, else certifi.

    Read at fetch time (as requests does) so a test CA or a corporate bundle
    set in the environment applies to every fetch.
    """
    bundle = (
        policy.ca_bundle
        or os.environ.get("REQUESTS_CA_BUNDLE")
        or os.environ.get("CURL_CA_BUNDLE")
        or certifi.where()
    )
    return (None, bundle) if os.path.isdir(bundle) else (bundle, None)
