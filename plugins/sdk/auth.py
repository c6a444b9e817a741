"""Authenticators: how an :class:`~plugins.sdk.HttpConnector` proves who it is, on every attempt.

A connector returns one from :meth:`HttpConnector.make_auth`; the connector applies it to each
attempt's request before the breaker and limits (a token fetch is a call of its own and must not
wait for a slot its caller holds). Built-in connectors use the same classes, so the code a vendor
relies on is exercised by real vendors' contracts.

* :class:`BasicAuth` — ``Authorization: Basic base64(user:password)``.
* :class:`ApiKey` — a static key in a header (optionally prefixed) or a query parameter.
* :class:`OAuth2ClientCredentials` — a bearer token from the client-credentials grant, cached in the
  instance's namespaced ``state`` until ``skew`` seconds before expiry, fetched single-flight across
  processes, dropped and fetched again once when the vendor answers 401 with an expired token.
* :class:`HmacSigner` — an HMAC over whatever the vendor's scheme signs, re-signed per attempt.

Every authenticator lists its secrets (:attr:`Authenticator.secrets`) and the header and parameter
names that carry them; the connector's :class:`~plugins.sdk.Masker` masks both in the call log and
DEBUG logs, and values fetched at run time (a token) are masked in the rows of the call that sent them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlencode

import httpx

from core.integrations.errors import VendorContractError

if TYPE_CHECKING:
    from .http import HttpConnector

__all__ = [
    "ApiKey",
    "Authenticator",
    "BasicAuth",
    "HmacSigner",
    "OAuth2ClientCredentials",
    "SigningInput",
    "token_expired",
]


class Authenticator:
    """Base class: puts credentials on a request. Subclass it for a scheme the SDK lacks.

    Attributes:
        secrets: values the call log must never show (added to the instance's masked secrets).
        sensitive_headers: header names carrying credentials under names the defaults miss.
        sensitive_fields: query parameters carrying credentials under names the defaults miss.
    """

    secrets: tuple[str, ...] = ()
    sensitive_headers: tuple[str, ...] = ()
    sensitive_fields: tuple[str, ...] = ()

    async def apply(self, request: httpx.Request, connector: HttpConnector) -> tuple[str, ...]:
        """Set the credentials on ``request`` (called once per attempt, retries included).

        Returns:
            Values obtained at run time (a fetched token) to mask in this call's call-log rows.
        """
        raise NotImplementedError

    async def refresh(self, response: httpx.Response, connector: HttpConnector) -> bool:
        """After an :class:`AuthError` answer: drop stale credentials and say whether to resend once."""
        return False


class BasicAuth(Authenticator):
    """HTTP Basic: ``Authorization: Basic base64(username:password)`` (RFC 7617, UTF-8)."""

    def __init__(self, username: str, password: str) -> None:
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self.header_value = f"Basic {encoded}"
        self.secrets = (password, encoded)

    async def apply(self, request: httpx.Request, connector: HttpConnector) -> tuple[str, ...]:
        """See :meth:`Authenticator.apply`."""
        request.headers["Authorization"] = self.header_value
        return ()


class ApiKey(Authenticator):
    """A static key sent in a header (``prefix`` + key) or as a query parameter, never both.

    Args:
        key: the key itself.
        header: the header name (``X-Api-Key``, ``Authorization``); ``None`` with ``param``.
        param: the query parameter name instead of a header.
        prefix: put before the key in the header (``"Bearer "``, ``"Token "``).
    """

    def __init__(
        self, key: str, *, header: str | None = "X-Api-Key", param: str | None = None, prefix: str = ""
    ) -> None:
        if param is not None:
            header = None
        if header is None and param is None:
            raise ValueError("ApiKey needs a header or a param")
        if not key:
            raise ValueError("ApiKey needs a non-empty key")
        self.key, self.header, self.param, self.prefix = key, header, param, prefix
        self.secrets = (key,)
        self.sensitive_headers = (header,) if header else ()
        self.sensitive_fields = (param,) if param else ()

    async def apply(self, request: httpx.Request, connector: HttpConnector) -> tuple[str, ...]:
        """See :meth:`Authenticator.apply`."""
        if self.param is not None:
            request.url = request.url.copy_set_param(self.param, self.key)
        else:
            assert self.header is not None
            request.headers[self.header] = f"{self.prefix}{self.key}"
        return ()


def token_expired(response: httpx.Response) -> bool:
    """Whether a 401 says the bearer token is invalid or expired (so a new one may help).

    RFC 6750's ``WWW-Authenticate: Bearer error="invalid_token"``, or a JSON ``error`` /
    ``code`` / ``message`` naming an invalid or expired token. A 401 for a revoked client or a
    wrong scope says nothing of the kind and is not retried.
    """
    if response.status_code != 401:
        return False
    if "invalid_token" in response.headers.get("www-authenticate", ""):
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    said = " ".join(str(body.get(k, "")) for k in ("error", "code", "message", "error_description"))
    said = said.lower()
    return "invalid_token" in said or "expired" in said


class OAuth2ClientCredentials(Authenticator):
    """OAuth 2.0 client credentials (RFC 6749 §4.4) with a bearer token cached per instance.

    The token lives in the instance's namespaced ``state.cache`` (so two instances never share
    one), keyed also by token URL and client id (so changed credentials never reuse an old token),
    until ``skew`` seconds before it expires. One process fetches at a time (``state.locks``); the
    others wait and read the cache. A 401 that :func:`token_expired` recognises drops the token the
    request carried and the call is resent once with a new one.

    Args:
        token_url: absolute URL or path (joined to ``base_url``) of the token endpoint.
        client_id: the client id.
        client_secret: the client secret.
        scope: space-separated scopes, omitted when ``None``.
        client_auth: ``"basic"`` sends the credentials as HTTP Basic (the RFC's default),
            ``"body"`` in the form (``client_secret_post``).
        skew: seconds before expiry at which a cached token counts as expired.
        default_expires_in: lifetime assumed when the answer has no ``expires_in``.
        is_expired: recognises an expired-token answer; :func:`token_expired` by default.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        client_auth: Literal["basic", "body"] = "basic",
        skew: float = 60.0,
        default_expires_in: float = 300.0,
        is_expired: Callable[[httpx.Response], bool] = token_expired,
    ) -> None:
        self.token_url, self.client_id, self.scope = token_url, client_id, scope
        self.client_auth, self.skew, self.default_expires_in = client_auth, skew, default_expires_in
        self.is_expired = is_expired
        self._client = BasicAuth(client_id, client_secret)
        self._secret = client_secret
        self.secrets = self._client.secrets
        digest = hashlib.sha256(f"{token_url}\n{client_id}".encode()).hexdigest()[:16]
        self.cache_key = f"oauth2:{digest}:token"

    async def token(self, connector: HttpConnector, *, stale: str | None = None) -> str:
        """The cached token, or a new one fetched single-flight; never ``stale``."""
        cache = connector.state.cache
        cached = await cache.get(self.cache_key)
        if cached is not None and cached.decode() != stale:
            return cached.decode()
        async with connector.state.locks.hold(f"{self.cache_key}:fetch", ttl=connector.config.total_timeout):
            cached = await cache.get(self.cache_key)  # another holder may have fetched meanwhile
            if cached is not None and cached.decode() != stale:
                return cached.decode()
            token, expires_in = await self._fetch(connector)
            ttl = expires_in - self.skew if expires_in > self.skew else expires_in / 2
            if ttl > 0:
                await cache.set(self.cache_key, token.encode(), ttl=ttl)
            return token

    async def _fetch(self, connector: HttpConnector) -> tuple[str, float]:
        form = {"grant_type": "client_credentials"}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self.scope:
            form["scope"] = self.scope
        if self.client_auth == "basic":
            headers["Authorization"] = self._client.header_value
        else:
            form.update(client_id=self.client_id, client_secret=self._secret)
        response = await connector.request(
            "POST",
            self.token_url,
            operation="oauth2_token",
            content=urlencode(form),
            headers=headers,
            idempotency_key="oauth2-token",  # a second token is harmless, so the fetch may be retried
            authenticate=False,
        )
        body = connector.response_json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise VendorContractError(
                f"{connector.name} oauth2_token: no access_token in the answer", connector=connector.slug
            )
        raw = body.get("expires_in")
        try:
            expires_in = float(raw) if raw is not None else self.default_expires_in
        except (TypeError, ValueError):
            expires_in = self.default_expires_in
        return token, expires_in

    async def apply(self, request: httpx.Request, connector: HttpConnector) -> tuple[str, ...]:
        """See :meth:`Authenticator.apply`."""
        token = await self.token(connector)
        request.headers["Authorization"] = f"Bearer {token}"
        return (token,)

    async def refresh(self, response: httpx.Response, connector: HttpConnector) -> bool:
        """Drop the token the refused request carried (unless already replaced) and resend once."""
        if not self.is_expired(response):
            return False
        sent = response.request.headers.get("authorization", "").partition(" ")[2]
        cached = await connector.state.cache.get(self.cache_key)
        if cached is not None and cached.decode() == sent:
            await connector.state.cache.delete(self.cache_key)
        return True


@dataclass(frozen=True, slots=True)
class SigningInput:
    """What a :class:`HmacSigner` message builder may sign, for one attempt.

    Args:
        method: upper-case HTTP method.
        path: the path as sent, percent-encoded, without the query.
        query: the query string as sent (no ``?``), possibly empty.
        body: the request body bytes (``b""`` when none).
        timestamp: the attempt's timestamp, as sent in ``timestamp_header``.
        nonce: a fresh random hex string, as sent in ``nonce_header``.
        headers: the request's headers (the ones the connector set).
    """

    method: str
    path: str
    query: str
    body: bytes
    timestamp: str
    nonce: str
    headers: httpx.Headers


class HmacSigner(Authenticator):
    """An HMAC signature over what the vendor's scheme names, recomputed for every attempt.

    Args:
        secret: the signing secret.
        message: builds the bytes to sign from a :class:`SigningInput`
            (``lambda s: f"{s.timestamp}.".encode() + s.body``).
        header: where the signature goes.
        template: the header value around ``{signature}`` (``"v1={signature}"``).
        digest: a :mod:`hashlib` name (``"sha256"``, ``"sha1"``).
        encoding: ``"hex"`` (lower-case) or ``"base64"``.
        timestamp_header: also send the timestamp there, when the vendor wants it.
        nonce_header: also send the nonce there, when the vendor wants it.
        timestamp_unit: ``"s"`` or ``"ms"`` since the epoch, from the connector's clock.
        static_headers: non-secret headers sent with every request (a key id).
    """

    def __init__(
        self,
        secret: str,
        message: Callable[[SigningInput], bytes],
        *,
        header: str = "X-Signature",
        template: str = "{signature}",
        digest: str = "sha256",
        encoding: Literal["hex", "base64"] = "hex",
        timestamp_header: str | None = None,
        nonce_header: str | None = None,
        timestamp_unit: Literal["s", "ms"] = "s",
        static_headers: Mapping[str, str] | None = None,
    ) -> None:
        hashlib.new(digest)  # fail at configuration, not on the first call
        self._secret = secret.encode("utf-8")
        self.message, self.header, self.template = message, header, template
        self.digest, self.encoding, self.timestamp_unit = digest, encoding, timestamp_unit
        self.timestamp_header, self.nonce_header = timestamp_header, nonce_header
        self.static_headers = dict(static_headers or {})
        self.secrets = (secret,)
        self.sensitive_headers = (header,)

    def sign(self, message: bytes) -> str:
        """The encoded HMAC of ``message`` (exposed so simulators and tests check the same thing)."""
        mac = hmac.new(self._secret, message, self.digest).digest()
        return mac.hex() if self.encoding == "hex" else base64.b64encode(mac).decode("ascii")

    async def apply(self, request: httpx.Request, connector: HttpConnector) -> tuple[str, ...]:
        """See :meth:`Authenticator.apply`."""
        now = connector.clock()
        timestamp = str(int(now * 1000) if self.timestamp_unit == "ms" else int(now))
        nonce = uuid.uuid4().hex
        request.headers.update(self.static_headers)
        if self.timestamp_header:
            request.headers[self.timestamp_header] = timestamp
        if self.nonce_header:
            request.headers[self.nonce_header] = nonce
        url = request.url
        signing = SigningInput(
            method=request.method,
            path=url.raw_path.split(b"?", 1)[0].decode("ascii"),
            query=url.query.decode("ascii"),
            body=request.content,
            timestamp=timestamp,
            nonce=nonce,
            headers=request.headers,
        )
        signature = self.sign(self.message(signing))
        request.headers[self.header] = self.template.format(signature=signature)
        return ()
