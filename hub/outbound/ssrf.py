"""The SSRF guard: partner URLs may only reach public addresses unless an operator allows more.

A subscription URL is chosen by whoever can call the admin API, and the worker that posts to it
sits inside the lender's network; without a guard, ``http://169.254.169.254/`` or
``http://10.0.0.5:6379/`` would make LendHub attack its own neighbours. So a target is refused
when its scheme is not http(s), or when the host *resolves* to a loopback, private (RFC 1918,
ULA), shared (CGNAT), link-local, multicast, unspecified, reserved or cloud-metadata address —
unless ``LENDHUB_OUTBOUND_ALLOW_PRIVATE_TARGETS`` lists the host, the address or a network
holding it (``*`` allows any address, never another scheme).

The check runs when a subscription is created or its URL changed, and again right before every
attempt (DNS may change in between). The sender then connects to the very address that was
checked (see ``hub.outbound.sender``), which closes the DNS-rebinding window between check and
connect. Residual risk, documented for operators: a partner that answers with a redirect is not
followed (3xx is a failure), but a target allowed by configuration is trusted completely.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "AllowList",
    "ResolvedTarget",
    "TargetRefused",
    "TargetUnresolvable",
    "refusal_reason",
    "resolve_target",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class TargetRefused(Exception):
    """The URL may not receive webhooks; permanent. The message says why, naming no secret."""


class TargetUnresolvable(Exception):
    """The host does not resolve now; transient at delivery time, a refusal at creation."""


@dataclass(frozen=True)
class AllowList:
    """Hosts and networks exempt from the private-address refusal.

    Args:
        any_address: ``*`` was given.
        hosts: host names (lower-case) whose every address is allowed.
        networks: addresses and CIDRs allowed whatever name led to them.
    """

    any_address: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_setting(cls, value: str) -> AllowList:
        """Parse the comma list of ``outbound_allow_private_targets``."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        any_address = False
        for raw in value.split(","):
            item = raw.strip().lower()
            if not item:
                continue
            if item == "*":
                any_address = True
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                hosts.add(item)
        return cls(any_address, frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IPAddress) -> bool:
        """Whether the operator allowed this host, or this address, although it is not public."""
        if self.any_address or host.lower() in self.hosts:
            return True
        return any(address.version == net.version and address in net for net in self.networks)


@dataclass(frozen=True)
class ResolvedTarget:
    """A checked URL: its parts and the addresses it resolved to (all of them passed)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def refusal_reason(address: IPAddress) -> str | None:
    """Why an address may not be a webhook target by default; ``None`` for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        # Addresses that carry an IPv4 address inside are judged by it: IPv4-mapped, 6to4
        # (2002::/16, which a 6to4 relay turns back into the IPv4 address) and Teredo (the
        # client's, obfuscated, and its server's).
        if address.ipv4_mapped is not None:
            return refusal_reason(address.ipv4_mapped)
        inside = [address.sixtofour] if address.sixtofour is not None else []
        if address.teredo is not None:
            inside += list(address.teredo)
        for embedded in inside:
            reason = refusal_reason(embedded)
            if reason is not None:
                return f"{reason} (inside {address})"
    if address in _METADATA:
        return "a cloud metadata"
    checks = [
        (address.is_unspecified, "an unspecified"),
        (address.is_loopback, "a loopback"),
        (address.is_link_local, "a link-local"),
        (address.is_multicast, "a multicast"),
        (isinstance(address, ipaddress.IPv4Address) and address in _SHARED, "a shared (CGNAT)"),
        (address.is_private, "a private"),
        (address.is_reserved, "a reserved"),
        (not address.is_global, "a non-public"),
    ]
    return next((words for hit, words in checks if hit), None)


def _split(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise TargetRefused(f"only http and https URLs may receive webhooks, not {scheme or 'no scheme'!r}")
    host = (parts.hostname or "").lower()
    if not host:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL are not allowed; the signature authenticates us")
    return scheme, host, port or (443 if scheme == "https" else 80)


async def resolve_target(url: str, allow: AllowList) -> ResolvedTarget:
    """Check a URL's scheme and every address its host resolves to.

    Resolution runs in a thread (``getaddrinfo`` blocks). Every address must pass: a name that
    resolves to one public and one private address is refused, because the connection could
    land on either.

    Raises:
        TargetRefused: bad scheme or URL, or a refused address (the message names it).
        TargetUnresolvable: the host does not resolve.
    """
    scheme, host, port = _split(url)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise TargetUnresolvable(f"cannot resolve {host!r}: {exc}") from None
        found = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
        if not found:
            raise TargetUnresolvable(f"{host!r} resolves to no address")
    for address in found:
        reason = refusal_reason(address)
        if reason is not None and not allow.allows(host, address):
            shown = host if literal is not None else f"{host} resolves to {address}, which"
            raise TargetRefused(
                f"{shown} is {reason} address; allow it with LENDHUB_OUTBOUND_ALLOW_PRIVATE_TARGETS"
            )
    return ResolvedTarget(url, scheme, host, port, tuple(str(a) for a in found))
