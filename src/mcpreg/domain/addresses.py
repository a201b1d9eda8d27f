"""Which network addresses and remote URLs a registry may reach: the private-remotes rule.

A public registry's remotes are https URLs of public hosts, and its gateway connects only
to public addresses. A private registry (``MCPREG_ALLOW_PRIVATE_REMOTES=1``) serves internal
upstreams: loopback, private ranges and plain ``http://`` are allowed there. The rule is one
function of the address and the flag; the flag reaches it as a parameter.
"""

from __future__ import annotations

import ipaddress

LOCAL_HOSTS = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_address(text: str) -> IPAddress | None:
    """``text`` as an IP address (brackets and an IPv6 zone allowed), or None for a name."""
    bare = text.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(bare)
    except ValueError:
        return None


def is_private_address(address: IPAddress) -> bool:
    """Loopback, private, link-local, unique-local, shared (CGNAT), unspecified, reserved or
    multicast: anything that is not a globally routed unicast address. An IPv4-mapped or
    6to4/Teredo IPv6 address is judged by the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return is_private_address(embedded)
    return not address.is_global or address.is_multicast


def is_local_name(host: str) -> bool:
    """A name that always means this machine (``localhost``, ``*.localhost``)."""
    lowered = host.lower().rstrip(".")
    return lowered in LOCAL_HOSTS or lowered.endswith(".localhost")


def host_allowed(host: str, *, private_remotes: bool) -> bool:
    """Whether a URL's host may be named at all (before any DNS resolution)."""
    if private_remotes:
        return bool(host)
    if not host or is_local_name(host):
        return False
    address = parse_address(host)
    return address is None or not is_private_address(address)


def address_allowed(address: IPAddress, *, private_remotes: bool) -> bool:
    """Whether the gateway may connect to ``address`` (checked after DNS resolution)."""
    return private_remotes or not is_private_address(address)


def scheme_allowed(scheme: str, *, private_remotes: bool) -> bool:
    """https always; plain http only on a private registry."""
    return scheme == "https" or (private_remotes and scheme == "http")
