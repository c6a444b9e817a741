"""``HttpConnector``: the one resilient road out for every HTTP vendor.

A connector subclasses it (together with its capability port) and calls :meth:`request`. Each call
goes, in order, through:

1. the egress allow-list — an undeclared host fails with EgressDenied before anything is sent;
2. per attempt: the authenticator (:mod:`plugins.sdk.auth`, from :meth:`HttpConnector.make_auth`),
   the circuit breaker (CircuitOpen when open), the rate limit (wait, bounded by the
   deadline) and the concurrency limit;
3. the send, on the injected ``httpx.AsyncClient`` with explicit timeouts cut to the call's
   deadline, never following redirects (a redirect could leave the allow-list;
   :mod:`plugins.sdk.sending`);
4. classification: the connector's :meth:`classify` hook first (vendor codes inside HTTP 200), then
   the default status mapping;
5. a masked call-log row for the attempt;
6. the retry policy (:mod:`plugins.sdk.retry`); after it, one resend when the authenticator
   recognises an expired credential in an AuthError answer.

Callers get the ``httpx.Response`` of a successful attempt or one typed ConnectorError whose message
names the connector, instance and operation and holds no secret or personal data.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from core.integrations.base import Connector
from core.integrations.errors import (
    AuthError,
    CircuitOpen,
    ConnectorError,
    EgressDenied,
    VendorContractError,
)

from .auth import Authenticator
from .breaker import BreakerSnapshot, CircuitBreaker
from .calllog import CallRecorder, MemoryCallRecorder, PendingCall, install_log_filter
from .config import HttpConnectorConfig, secret_values
from .cookies import CookielessAsyncClient
from .egress import EgressPolicy
from .guards import Guards
from .limits import Limiter
from .masking import Masker, declared_patterns, declared_sensitive
from .retry import IDEMPOTENT_METHODS, RetryPolicy, classify_status
from .sending import AttemptTimeouts
from .state import SharedState

__all__ = ["HttpConnector"]

logger = logging.getLogger("lendhub.sdk.http")


class HttpConnector(Connector):
    """Base class of connectors that speak HTTP; see the module docstring for the road a call takes.

    Args:
        config: the validated instance config (an :class:`HttpConnectorConfig` subclass).
        instance: the instance name, unique per connector slug.
        http: the HTTP client, injected by the hub so connections are pooled and tests can mock
            it; when ``None`` the connector makes (and in :meth:`aclose` closes) its own. Either
            way it should keep no cookies (:class:`CookielessAsyncClient`): a session the vendor
            sets is the connector's to keep and send.
        state: shared breaker, rate, lock and cache state; in-memory when ``None``. The instance
            keeps it as :attr:`shared_state` and uses a view scoped to ``<slug>/<instance>`` as
            :attr:`state`, so a cache key such as ``"token"`` is one per instance.
        recorder: where call-log rows go; an in-memory recorder when ``None``.
        clock: wall-clock seconds, for deadlines, breaker, rate limit and latencies (tests fake it).
        sleep: how to wait between attempts and for rate slots (tests fake it).
        rng: jitter source in [0, 1).
    """

    Config: ClassVar[type[BaseModel]] = HttpConnectorConfig
    idempotency_header: ClassVar[str] = "Idempotency-Key"
    """Header that carries the idempotency key; override for vendors that name it differently."""
    sensitive_fields: ClassVar[tuple[str, ...]] = ()
    """JSON keys (any depth), form fields and query parameters holding personal data no pattern
    recognises (``("name", "keyword")``); credential- and session-like names are masked anyway.
    A subclass adds to its bases' declarations. See :mod:`plugins.sdk.masking`."""
    sensitive_headers: ClassVar[tuple[str, ...]] = ()
    """Credential headers under names the defaults miss (``X-Partner-Id``); see ``sensitive_fields``."""
    sensitive_patterns: ClassVar[tuple[str, ...]] = ()
    """Regular expressions for personal data the built-in patterns miss (a passport number, a
    vendor's customer id): every match is masked wherever the call log or a log line records it."""

    config: HttpConnectorConfig

    def __init__(
        self,
        config: HttpConnectorConfig,
        *,
        instance: str = "default",
        http: httpx.AsyncClient | None = None,
        state: SharedState | None = None,
        recorder: CallRecorder | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(config, instance=instance)
        self.slug = self.info.slug
        self.name = f"{self.slug}/{instance}"
        clock = clock or time.time
        sleep = sleep or asyncio.sleep
        self.clock = clock
        self.timeout = httpx.Timeout(
            connect=config.connect_timeout,
            read=config.read_timeout,
            write=config.read_timeout,
            pool=config.connect_timeout,
        )
        self._timeouts = AttemptTimeouts(self.timeout, config.total_timeout)
        self._owns_http = http is None
        self.http = http if http is not None else CookielessAsyncClient(timeout=self.timeout)
        self.shared_state = state if state is not None else SharedState.memory()
        """The whole bundle, unscoped: for what instances share on purpose (a session keyed by
        the server and user it belongs to). Keys here are global; namespace them yourself."""
        self.state = self.shared_state.scoped(f"{self.slug}/{instance}")
        """This instance's view: cache and lock keys live under ``<slug>/<instance>:``."""
        self.recorder: CallRecorder = recorder if recorder is not None else MemoryCallRecorder(limit=1000)
        self._base_url = config.base_url.rstrip("/")
        guards = Guards.from_config(
            config,
            name=self.name,
            key=f"{self.slug}:{instance}",
            hosts=self.info.hosts,
            state=self.state,
            clock=clock,
            sleep=sleep,
            rng=rng,
        )
        self.egress: EgressPolicy = guards.egress
        self.breaker: CircuitBreaker = guards.breaker
        self.limiter: Limiter = guards.limiter
        self.retry_policy: RetryPolicy = guards.retry_policy
        self.auth = self.make_auth()
        """Applied to every attempt; see :meth:`make_auth`."""
        fields, headers = declared_sensitive(type(self))
        auth = self.auth or Authenticator()
        self.masker = Masker(
            [*secret_values(config), *auth.secrets],
            fields=fields | set(auth.sensitive_fields),
            headers=headers | set(auth.sensitive_headers),
            patterns=declared_patterns(type(self)),
        )
        install_log_filter(self.masker)

    # -- the hooks connectors override ------------------------------------------------------------

    def make_auth(self) -> Authenticator | None:
        """The authenticator applied to every request (``authenticate=False`` skips it); ``None``.

        Called once at the end of construction, with ``self.config`` set: return
        ``BasicAuth(...)``, ``ApiKey(...)``, ``OAuth2ClientCredentials(...)`` or ``HmacSigner(...)``
        built from the config. Its secrets are masked in the call log like config secrets.
        """
        return None

    def classify(self, response: httpx.Response) -> ConnectorError | None:
        """Map a vendor answer to an error before the default status mapping; ``None`` to defer.

        Override it for vendors that report failures inside HTTP 200 (``{"code": "E1003"}``):
        return a TransientError or RateLimited for codes worth retrying, a PermanentError
        subclass otherwise. The default defers every response to the status mapping.
        """
        return None

    # -- the road ---------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        operation: str,
        json: Any = None,
        content: bytes | str | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        cost_units: Decimal | None = None,
        expect_json: bool = True,
        authenticate: bool = True,
    ) -> httpx.Response:
        """Send one logical call through egress, breaker, limits, retries and the call log.

        Args:
            method: HTTP method.
            path_or_url: a path joined to ``config.base_url``, or an absolute URL (still checked
                against the allow-list).
            operation: what the call does, for the call log and error messages.
            json: a JSON body.
            content: a raw body.
            params: query parameters.
            headers: extra headers (credentials go here; they never reach the call log).
            idempotency_key: makes a POST/PATCH safe to retry; sent as :attr:`idempotency_header`.
            cost_units: cost of one attempt; ``config.cost_per_call`` when ``None``.
            expect_json: a 2xx answer must be JSON (``False`` for documents and files).
            authenticate: apply :attr:`auth` (``False`` for the token request itself).

        Returns:
            The response of the successful attempt.

        Raises:
            ConnectorError: the typed error of the last attempt (see the error tree).
        """
        method = method.upper()
        # Anything with a scheme is absolute (and meets the allow-list); the rest is a path.
        url = path_or_url if "://" in path_or_url else f"{self._base_url}/{path_or_url.lstrip('/')}"
        if idempotency_key is not None:
            headers = {**(headers or {}), self.idempotency_header: idempotency_key}
        request = self.http.build_request(
            method, url, json=json, content=content, params=params, headers=headers
        )
        call = PendingCall(
            request=request,
            operation=operation,
            method=method,
            idempotency_key=idempotency_key,
            cost=self.config.cost_per_call if cost_units is None else cost_units,
            deadline=0.0,
            expect_json=expect_json,
            values=self.masker.call_values(request.headers.items(), params, json),
        )
        now = self.clock()
        try:
            self.egress.check(request.url, connector=self.slug, operation=operation)
        except EgressDenied as error:
            await self._record(call, 1, None, 0.0, error, now, sent=False)
            raise
        call.deadline = now + self.config.total_timeout
        idempotent = method in IDEMPOTENT_METHODS or idempotency_key is not None
        if authenticate and self.auth is not None:
            call.auth = self.auth
            # Outside the retry policy: a failed token fetch was retried as its own call already.
            await self._authenticate(call)
        run = partial(self.retry_policy.run, partial(self._attempt, call), deadline=call.deadline)
        try:
            return await run(idempotent=idempotent)
        except AuthError:
            response = call.response
            if call.auth is None or response is None or not await call.auth.refresh(response, self):
                raise
        # The vendor refused the credential, so it acted on nothing: resending is safe even unkeyed.
        call.offset, call.response = call.last, None
        await self._authenticate(call)
        return await run(idempotent=True)

    async def _authenticate(self, call: PendingCall) -> None:
        assert call.auth is not None
        fetched = await call.auth.apply(call.request, self)
        call.values = self.masker.merge_values(call.values, fetched)
        call.url, call.fresh = "", True

    async def _attempt(self, call: PendingCall, number: int) -> httpx.Response:
        if call.auth is not None and not call.fresh:
            await self._authenticate(call)  # re-sign or re-read the token for a retry
        call.fresh = False
        number += call.offset
        call.last = number
        started = self.clock()
        op = call.operation
        try:
            probe = await self.breaker.acquire(connector=self.slug, operation=op)
        except CircuitOpen as open_error:
            await self._record(call, number, None, 0.0, open_error, started, sent=False)
            raise
        try:
            await self.limiter.wait_for_rate(deadline=call.deadline, connector=self.slug, operation=op)
            await self.limiter.enter(max_wait=call.deadline - self.clock(), connector=self.slug, operation=op)
        except BaseException as refused:
            if probe:
                await self.breaker.release()
            if isinstance(refused, ConnectorError):
                await self._record(call, number, None, 0.0, refused, started, sent=False)
            raise
        response: httpx.Response | None = None
        error: ConnectorError | None = None
        sent_at = self.clock()
        try:
            response = await self._timeouts.send(
                self.http,
                call.request,
                remaining=call.deadline - sent_at,
                label=f"{self.name} {op}",
                connector=self.slug,
            )
        except ConnectorError as exc:
            error = exc
        except BaseException:
            # Cancelled mid-flight: no verdict on the vendor, so give the probe back.
            if probe:
                await self.breaker.release()
            raise
        finally:
            self.limiter.exit()
        latency_ms = (self.clock() - sent_at) * 1000.0
        if response is not None:
            call.response = response
            error = self._classify(response, call)
        await self.breaker.record(error)
        await self._record(call, number, response, latency_ms, error, started, sent=True)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s attempt %d: %s %s headers=%s -> %s in %.1f ms",
                self.name,
                op,
                number,
                call.method,
                call.url,
                self.masker.headers(call.request.headers.items()),
                response.status_code if response is not None else (error and error.error_class),
                latency_ms,
            )
        if error is not None:
            raise error
        assert response is not None
        return response

    def _classify(self, response: httpx.Response, call: PendingCall) -> ConnectorError | None:
        prefix = f"{self.name} {call.operation}"
        custom = self.classify(response)
        if custom is not None:
            if custom.connector is None:
                custom.connector = self.slug
            if custom.status_code is None:
                custom.status_code = response.status_code
            if not custom.message.startswith(self.name):
                custom.message = f"{prefix}: {self.masker.text(custom.message, call.values)}"
                custom.args = (custom.message,)
            return custom
        return classify_status(
            response, prefix=prefix, connector=self.slug, now=self.clock(), expect_json=call.expect_json
        )

    async def _record(
        self,
        call: PendingCall,
        attempt: int,
        response: httpx.Response | None,
        latency_ms: float,
        error: ConnectorError | None,
        started: float,
        *,
        sent: bool,
    ) -> None:
        record = call.row(
            self.masker,
            connector=self.slug,
            instance=self.instance,
            attempt=attempt,
            response=response,
            latency_ms=latency_ms,
            error=error,
            started=started,
            sent=sent,
        )
        try:
            await self.recorder.record(record)
        except Exception as exc:  # a broken call log must never break the call itself
            logger.warning(
                "%s %s: call-log recorder %s failed: %s",
                self.name,
                call.operation,
                type(self.recorder).__name__,
                type(exc).__name__,
            )

    # -- helpers for connectors -------------------------------------------------------------------

    def response_json(self, response: httpx.Response) -> Any:
        """Parse a JSON answer, or raise VendorContractError naming the connector and content type."""
        try:
            return response.json()
        except ValueError:
            ctype = response.headers.get("content-type", "no content type")
            raise VendorContractError(
                f"{self.name}: expected a JSON answer, got {ctype} ({len(response.content)} bytes)",
                connector=self.slug,
                status_code=response.status_code,
            ) from None

    async def breaker_snapshot(self) -> BreakerSnapshot:
        """The instance's breaker, for /readyz and ``lendhub plugins``."""
        return await self.breaker.snapshot()

    async def aclose(self) -> None:
        """Close the HTTP client if the connector made it; an injected one belongs to the hub."""
        if self._owns_http:
            await self.http.aclose()
