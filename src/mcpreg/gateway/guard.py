"""The gateway's guard against server-side request forgery.

Before each upstream request the URL's scheme and host are checked by the private-remotes
rule (``domain.addresses``), and, on a public registry, its name is resolved and every
address it resolves to must be public. The request is then sent to the address that was
checked (the URL's host replaced by it, with ``Host`` and the TLS server name kept), so a
name that resolves to 127.0.0.1, or one whose answer changes between the check and the
connection (DNS rebinding), never reaches a private address.

With ``MCPREG_ALLOW_PRIVATE_REMOTES=1`` any http(s) host is allowed and nothing is pinned.

``endpoint`` is what the gateway sends to: the destination as the upstream client
(``gateway.connections``) takes it. Where no name is resolved (private remotes allowed, or
an address literal) the answer depends on the URL alone and is kept, so a request does not
parse its upstream's URL again; a name is resolved and checked on every request.
"""

from __future__ import annotations

import base64
import socket
from dataclasses import dataclass, field

import anyio
import httpx2

from mcpreg.domain.addresses import address_allowed, host_allowed, parse_address, scheme_allowed
from mcpreg.errors import UpstreamForbidden, UpstreamRefused
from mcpreg.gateway.answers import Endpoint, Origin

KEPT_ENDPOINTS = 4096  # URLs whose endpoint is kept (those that need no name resolution)
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Destination:
    """Where one upstream request goes: the URL to send it to and what to add to it."""

    url: httpx2.URL
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)


def _forbidden(url: httpx2.URL, why: str) -> UpstreamForbidden:
    return UpstreamForbidden(
        f"the gateway does not connect to {url.scheme}://{url.host}: {why} "
        "(MCPREG_ALLOW_PRIVATE_REMOTES=1 allows private upstreams)",
        field="remotes",
    )


async def destination(raw_url: str, *, private_remotes: bool) -> Destination:
    """The checked destination of ``raw_url``; ``UpstreamForbidden`` when the rule refuses it."""
    url = httpx2.URL(raw_url)
    if not scheme_allowed(url.scheme, private_remotes=private_remotes):
        raise _forbidden(url, "only https upstreams are allowed")
    if not host_allowed(url.host, private_remotes=private_remotes):
        raise _forbidden(url, "the host is local or private")
    if private_remotes or parse_address(url.host) is not None:
        return Destination(url)
    try:
        found = await anyio.getaddrinfo(url.host, url.port or 443, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UpstreamRefused(
            f"the upstream's host {url.host} does not resolve: {exc}", field="remotes"
        ) from None
    addresses = [parse_address(str(info[4][0])) for info in found]
    checked = [address for address in addresses if address is not None]
    if not checked:
        raise UpstreamRefused(f"the upstream's host {url.host} has no address", field="remotes")
    for address in checked:
        if not address_allowed(address, private_remotes=private_remotes):
            raise _forbidden(url, f"it resolves to the private address {address}")
    host = url.netloc.decode("ascii")
    return Destination(
        url.copy_with(host=str(checked[0])),
        headers={"host": host},
        extensions={"sni_hostname": url.host} if url.scheme == "https" else {},
    )


_kept: dict[tuple[str, bool], Endpoint] = {}


def endpoint_of(where: Destination) -> Endpoint:
    """The client's view of a checked destination."""
    url = where.url
    host = where.headers.get("host")
    origin = Origin(
        url.scheme,
        url.host,
        url.port or _DEFAULT_PORTS[url.scheme],
        where.extensions.get("sni_hostname") if url.scheme == "https" else None,
    )
    authorization = None
    if url.userinfo:  # as httpx sent it: Basic credentials, never part of the request line
        pair = f"{url.username}:{url.password}".encode()
        authorization = b"Basic " + base64.b64encode(pair)
    return Endpoint(origin, url.raw_path, host.encode("ascii") if host else url.netloc, authorization)


async def endpoint(raw_url: str, *, private_remotes: bool) -> Endpoint:
    """Where a request to ``raw_url`` goes (``destination``'s rules and errors)."""
    kept = _kept.get((raw_url, private_remotes))
    if kept is not None:
        return kept
    where = await destination(raw_url, private_remotes=private_remotes)
    found = endpoint_of(where)
    if not where.headers:  # no name was resolved: the same answer next time
        if len(_kept) >= KEPT_ENDPOINTS:
            _kept.clear()
        _kept[(raw_url, private_remotes)] = found
    return found
