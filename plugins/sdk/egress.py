"""The egress allow-list: a connector talks only to the hosts it declared.

A connector is third-party code holding credit data. It may reach the hosts its class declares in
``info.hosts`` and the host of the ``base_url`` the operator configured for the instance (pointing
an instance at a simulator or a private gateway is a declaration too). Anything else is refused
with :class:`~core.integrations.errors.EgressDenied` before a byte leaves the process.

Matching is exact and case-insensitive; a leading ``*.`` matches any subdomain (but not the bare
domain, which must be listed itself). Plain ``http://`` is refused for any host but this machine
unless the instance allows it (``allow_insecure_http``): a request carries credentials, and an
absolute URL the vendor hands back (an upload URL, say) is checked like ``base_url``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import httpx

from core.integrations.errors import EgressDenied

from .config import is_loopback_host

__all__ = ["EgressPolicy", "host_of"]


def _normalise(host: str) -> str:
    return host.strip().rstrip(".").lower()


@lru_cache(maxsize=256)
def host_of(url: str) -> str:
    """The host part of ``url``, normalised; empty when there is none."""
    return _normalise(httpx.URL(url).host)


class EgressPolicy:
    """The set of hosts one connector instance may call.

    Args:
        hosts: exact host names and ``*.domain`` wildcards.
        name: how error messages name the instance (``"<slug>/<instance>"``).
        allow_insecure_http: allow plain ``http://`` to hosts other than this machine.
    """

    def __init__(
        self, hosts: Iterable[str], *, name: str = "connector", allow_insecure_http: bool = False
    ) -> None:
        self.name = name
        self.allow_insecure_http = allow_insecure_http
        self.exact: frozenset[str] = frozenset(_normalise(h) for h in hosts if not h.startswith("*."))
        self.suffixes: tuple[str, ...] = tuple(_normalise(h)[1:] for h in hosts if h.startswith("*."))

    def allows(self, host: str) -> bool:
        """Whether ``host`` is on the list."""
        host = _normalise(host)
        if not host:
            return False
        if host in self.exact:
            return True
        return any(host.endswith(suffix) and len(host) > len(suffix) for suffix in self.suffixes)

    def check(self, url: httpx.URL, *, connector: str | None = None, operation: str = "") -> None:
        """Raise EgressDenied unless ``url`` is an http(s) URL to an allowed host."""
        if url.scheme not in ("http", "https"):
            raise EgressDenied(
                f"{self.name} {operation}: scheme {url.scheme!r} is not allowed", connector=connector
            )
        if url.scheme == "http" and not self.allow_insecure_http and not is_loopback_host(url.host):
            raise EgressDenied(
                f"{self.name} {operation}: plain http:// to {url.host!r} would send credentials in "
                "clear (set allow_insecure_http on the instance to allow it); nothing was sent",
                connector=connector,
            )
        if not self.allows(url.host):
            raise EgressDenied(
                f"{self.name} {operation}: host {url.host!r} is not on the egress allow-list "
                f"(declared: {', '.join(sorted(self.exact)) or 'none'}); nothing was sent",
                connector=connector,
            )
