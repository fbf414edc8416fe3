"""Which IP addresses a fetch may connect to: public, private (by configuration) or forbidden.

Server-side request forgery aims at the machine itself, the office network
or a cloud metadata service; every address a feed's host resolves to is
judged here before any connection is made.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Literal

from app.feeds.fetch_policy import FetchPolicy

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressClass = Literal["public", "private", "forbidden"]

# Never contacted, whatever the configuration: "this host", link-local (the
# cloud metadata service lives at 169.254.169.254), multicast and reserved.
_FORBIDDEN = tuple(
    ipaddress.ip_network(n)
    for n in ("0.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4")
    + ("::/128", "fe80::/10", "ff00::/8")
)
# Not public even where a Python version's ``is_global`` says otherwise:
# shared (CGNAT), documentation, benchmarking, IPv4-compatible and -mapped
# IPv6, unique-local, site-local, local-use NAT64, discard-only.
_NOT_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
    )
    + ("::/96", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32")
    + ("3fff::/20", "fc00::/7", "fec0::/10")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


# Every fetch judges the addresses its host resolves to, and a feed host
# resolves to the same few addresses again and again (outlook.office365.com);
# the verdict depends on the address alone.
@functools.lru_cache(maxsize=4096)
def classify_address(address: str | IPAddress) -> AddressClass:
    """Public, private (allowed by configuration only) or forbidden (never).

    IPv6 forms that embed an IPv4 address (mapped, compatible, 6to4, Teredo,
    NAT64) are judged by the embedded address too, so ``::ffff:127.0.0.1``
    is no way round the loopback rule.
    """
    ip = to_ip(address)
    classes = [_classify_one(candidate) for candidate in (ip, *_embedded_ipv4(ip))]
    for worst in ("forbidden", "private"):
        if worst in classes:
            return worst  # type: ignore[return-value]
    return "public"


def is_public_address(address: str | IPAddress) -> bool:
    """True when the address is on the public internet (no configuration needed)."""
    return classify_address(address) == "public"


def address_allowed(address: str | IPAddress, policy: FetchPolicy) -> bool:
    """Whether ``policy`` lets a fetch connect to ``address``."""
    verdict = classify_address(address)
    if verdict != "private":
        return verdict == "public"
    if policy.allow_private:
        return True
    ip = to_ip(address)
    return any(ip in network for network in policy.allowed_networks)


def to_ip(address: str | IPAddress) -> IPAddress:
    """``address`` as an IP address object; a zone id is dropped."""
    if isinstance(address, str):
        # Zone ids ("fe80::1%eth0") only name an interface; judge the address.
        return ipaddress.ip_address(address.split("%", 1)[0])
    return address


def _classify_one(ip: IPAddress) -> AddressClass:
    if ip.is_unspecified or ip.is_multicast or ip.is_link_local:
        return "forbidden"
    if any(ip in network for network in _FORBIDDEN):
        return "forbidden"
    if not ip.is_global or any(ip in network for network in _NOT_PUBLIC):
        return "private"
    return "public"


def _embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    # IPv4-compatible ::a.b.c.d (deprecated, still routed by some stacks); :: and
    # ::1 are IPv6's own unspecified and loopback addresses, judged as such.
    if 1 < int(ip) < 2**32:
        found.append(ipaddress.IPv4Address(int(ip)))
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [v4 for v4 in found if v4 is not None]
