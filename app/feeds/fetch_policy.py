"""What a fetch may do: the policy, read from TIMEPULSE_* settings, and its start-up warning.

The defaults are the safe production rules; an operator relaxes them only
through the environment (``FetchPolicy.from_env``), and relaxing the
private-address guard is announced once per process.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

# The guard's warning keeps the name it has always been logged under.
log = logging.getLogger("timepulse.feeds.fetch")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may do. The defaults are the safe production rules.

    ``allowed_ports`` None means any port. ``allowed_networks`` are non-public
    networks an operator trusts (an on-premises Exchange; tests use
    127.0.0.0/8). ``resolver`` replaces DNS (tests map fake public names to
    loopback). ``ca_bundle`` overrides REQUESTS_CA_BUNDLE / certifi.
    """

    allow_private: bool = False
    allowed_ports: frozenset[int] | None = frozenset({443})
    connect_timeout: float = 10.0
    total_timeout: float = 60.0
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 3
    allowed_networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver | None = None
    ca_bundle: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> FetchPolicy:
        """Build the policy from TIMEPULSE_* settings; raise ValueError on bad values.

        TIMEPULSE_ALLOW_PRIVATE_FEEDS=1 allows loopback/private addresses and
        any port (development, tests); an explicit TIMEPULSE_FEED_PORTS wins
        over "any port". TIMEPULSE_FEED_ALLOWED_NETWORKS is a comma list of
        CIDRs an operator trusts.
        """
        allow_private = environ.get("TIMEPULSE_ALLOW_PRIVATE_FEEDS", "").strip() == "1"
        ports: frozenset[int] | None = None if allow_private else frozenset({443})
        if environ.get("TIMEPULSE_FEED_PORTS", "").strip():
            ports = _parse_ports(environ["TIMEPULSE_FEED_PORTS"])
        total = _env_number(environ, "TIMEPULSE_FETCH_TIMEOUT", float, cls.total_timeout)
        return cls(
            allow_private=allow_private,
            allowed_ports=ports,
            connect_timeout=min(cls.connect_timeout, total),
            total_timeout=total,
            max_bytes=_env_number(environ, "TIMEPULSE_FEED_MAX_BYTES", int, cls.max_bytes),
            allowed_networks=_parse_networks(environ.get("TIMEPULSE_FEED_ALLOWED_NETWORKS", "")),
        )


def _parse_ports(raw: str) -> frozenset[int]:
    try:
        ports = frozenset(int(p) for p in raw.split(",") if p.strip())
    except ValueError:
        raise ValueError("TIMEPULSE_FEED_PORTS must be a comma list of port numbers") from None
    if not all(0 < p < 65536 for p in ports):
        raise ValueError("TIMEPULSE_FEED_PORTS must hold ports between 1 and 65535")
    return ports


def _parse_networks(raw: str) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(n.strip()) for n in raw.split(",") if n.strip())
    except ValueError:
        raise ValueError("TIMEPULSE_FEED_ALLOWED_NETWORKS must be a comma list of CIDRs") from None


_Number = TypeVar("_Number", int, float)


def _env_number(
    environ: Mapping[str, str], name: str, kind: type[_Number], default: _Number
) -> _Number:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive")
    return value


_private_warning_lock = threading.Lock()
_private_warning_logged = False


def warn_if_private_allowed(policy: FetchPolicy) -> bool:
    """Log, once per process, that the SSRF guard is relaxed; called at start-up.

    Returns True when this call wrote the warning.
    """
    global _private_warning_logged
    if not policy.allow_private:
        return False
    with _private_warning_lock:
        if _private_warning_logged:
            return False
        _private_warning_logged = True
    log.warning(
        "TIMEPULSE_ALLOW_PRIVATE_FEEDS is on: feeds may point at loopback and private "
        "addresses on any port. Use this only for development and tests."
    )
    return True
