"""An outbound HTTP client that keeps no cookies: no session rides from one party to another.

httpx keeps a cookie jar on every client. Each answer's ``Set-Cookie`` is stored
(``_send_single_request`` calls ``self.cookies.extract_cookies``) and every request built later
carries the cookies that match it (``build_request`` merges ``self.cookies``). The jar matches by
domain and path, not by port, so on the hub's shared client a session cookie set by 金蝶 at
10.0.0.5 would ride along to every other vendor, and every partner webhook, at 10.0.0.5.

Handing httpx a no-keep ``httpx.Cookies`` subclass does not help: both the constructor and the
``cookies`` setter wrap whatever they get in a fresh ``httpx.Cookies`` (``Cookies(cookies)`` copies
the cookies of a ``Cookies`` into a new standard jar), so the subclass is silently dropped.
:class:`CookielessAsyncClient` instead pins a jar whose every store is a no-op and refuses to have
it replaced. A connector that needs a session (金蝶) keeps it itself and sends it as a ``Cookie``
header on its own requests; that header goes only where the connector puts it.
"""

from __future__ import annotations

from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.request import Request

import httpx

__all__ = ["CookielessAsyncClient"]


class _DiscardingJar(CookieJar):
    """A cookie jar that never stores a cookie, so it never has one to send."""

    def set_cookie(self, cookie: Cookie) -> None:
        """Drop the cookie."""

    def extract_cookies(self, response: Any, request: Request) -> None:
        """Ignore ``Set-Cookie``."""


class CookielessAsyncClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` whose cookie jar stays empty for its whole life.

    Accepts every ``httpx.AsyncClient`` argument; ``cookies=`` is ignored (a shared client has no
    business holding any). Assigning ``client.cookies`` raises ``TypeError``.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("cookies", None)
        super().__init__(**kwargs)
        self._cookies = httpx.Cookies(_DiscardingJar())

    @property
    def cookies(self) -> httpx.Cookies:
        """Always empty: stores into it are dropped."""
        return self._cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError(
            "this client keeps no cookies; send a session as a Cookie header on the requests that need it"
        )
