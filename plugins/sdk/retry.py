"""THE retry policy of every outbound call; connectors never build their own.

What is retried:

* only :class:`~core.integrations.errors.TransientError` (timeouts, 5xx, network, 429 and vendor
  codes a connector maps to it) — never a permanent error, and never
  :class:`~core.integrations.errors.CircuitOpen`, whose whole point is to stop the hammering;
* a non-idempotent request (POST, PATCH) only when it carries an idempotency key — unless the error
  proves the vendor never processed it (a refused connection, a 429);
* only while the call's total deadline allows another attempt.

How long between attempts: exponential backoff with full jitter (a random wait in a window that
doubles per attempt), or exactly the wait the vendor asked for: ``Retry-After`` first, else
``RateLimit-Reset``, else ``X-RateLimit-Reset`` (:func:`rate_limit_delay`). A wait beyond
``max_retry_after`` or beyond the deadline fails the call at once with the RateLimited error
rather than sleeping through it — the caller (a job) is better placed to come back later.

Callers always see the typed error (``reraise=True``), never ``tenacity.RetryError``.

The first attempt runs outside tenacity so the common success path pays nothing for the machinery;
when it fails its outcome is replayed as tenacity's attempt 1, so numbering, waits and stops are all
decided by the one tenacity configuration below.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from tenacity import AsyncRetrying, RetryCallState

from core.integrations.errors import (
    AuthError,
    CircuitOpen,
    ConnectorError,
    InvalidRequest,
    NotFound,
    QuotaExhausted,
    RateLimited,
    TransientError,
    VendorContractError,
)

__all__ = [
    "EPOCH_THRESHOLD",
    "IDEMPOTENT_METHODS",
    "RATE_LIMIT_HEADERS",
    "RetryPolicy",
    "classify_status",
    "parse_rate_limit_reset",
    "parse_retry_after",
    "rate_limit_delay",
]

T = TypeVar("T")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})

# Errors after which the vendor certainly did not act on the request, so even a POST without an
# idempotency key is safe to resend.
_NOT_SENT_CAUSES = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value (delta-seconds or HTTP-date).

    Args:
        value: the header value, possibly ``None``.
        now: current wall-clock seconds, to turn a date into a delay.

    Returns:
        A non-negative delay, or ``None`` when absent or unparseable.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when: datetime = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


EPOCH_THRESHOLD = 1_000_000_000.0
"""A reset value at or above this is a Unix time, below it a number of seconds to wait.

Vendors disagree: the IETF ``RateLimit-Reset`` is delta-seconds, GitHub's and many others'
``X-RateLimit-Reset`` is epoch seconds, some send delta-seconds under the ``X-`` name too. The two
ranges do not overlap in practice: 10⁹ seconds is 31 years of waiting, and 10⁹ as a time is 2001."""

RATE_LIMIT_HEADERS = ("retry-after", "ratelimit-reset", "x-ratelimit-reset")
"""Where a vendor says how long to wait, in the order they are believed."""


def parse_rate_limit_reset(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``RateLimit-Reset`` or ``X-RateLimit-Reset`` value.

    Values below :data:`EPOCH_THRESHOLD` are delta-seconds, the rest Unix times (a time already
    past means "now"). Fractions are accepted; anything else is ignored.

    Returns:
        A non-negative delay, or ``None`` when absent or unparseable.
    """
    if not value:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if number >= EPOCH_THRESHOLD:
        return max(0.0, number - now)
    return max(0.0, number)


def rate_limit_delay(headers: Mapping[str, str], *, now: float) -> float | None:
    """The wait a rate-limited answer asks for: ``Retry-After``, else either reset header.

    The first header that parses wins (:data:`RATE_LIMIT_HEADERS`). The result is not capped here:
    :class:`RetryPolicy` fails the call at once when it exceeds ``max_retry_after``, whichever
    header it came from.
    """
    delay = parse_retry_after(headers.get("retry-after"), now=now)
    if delay is not None:
        return delay
    for name in RATE_LIMIT_HEADERS[1:]:
        delay = parse_rate_limit_reset(headers.get(name), now=now)
        if delay is not None:
            return delay
    return None


def _looks_like_json(body: bytes) -> bool:
    head = body.lstrip()[:1]
    if head in (b"{", b"["):
        return True
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def classify_status(
    response: httpx.Response, *, prefix: str, connector: str, now: float, expect_json: bool = True
) -> ConnectorError | None:
    """The default HTTP status → error mapping, which fixes each answer's retry class.

    Args:
        response: the vendor's answer.
        prefix: names connector, instance and operation at the start of the message.
        connector: the connector slug, set on the error.
        now: wall-clock seconds, to read an HTTP-date ``Retry-After``.
        expect_json: a 2xx answer must be JSON; HTML or garbage is a VendorContractError.

    Returns:
        ``None`` for a usable answer, otherwise the error; messages carry no body content.
    """
    status = response.status_code
    kw: dict[str, Any] = {"connector": connector, "status_code": status}
    if 200 <= status < 300:
        body = response.content
        if expect_json and status != 204 and body and not _looks_like_json(body):
            ctype = response.headers.get("content-type", "no content type")
            return VendorContractError(f"{prefix}: expected JSON, got {ctype} ({len(body)} bytes)", **kw)
        return None
    if status == 429:
        retry_after = rate_limit_delay(response.headers, now=now)
        return RateLimited(f"{prefix}: HTTP 429 rate limited", retry_after=retry_after, **kw)
    if status >= 500 or status == 408:
        return TransientError(f"{prefix}: HTTP {status}", **kw)
    if status in (401, 403):
        return AuthError(f"{prefix}: HTTP {status} credentials rejected", **kw)
    if status in (404, 410):
        return NotFound(f"{prefix}: HTTP {status} not found", **kw)
    if status == 402:
        return QuotaExhausted(f"{prefix}: HTTP 402 quota or balance exhausted", **kw)
    if status >= 400:  # the rest of 4xx: every 5xx was answered above
        return InvalidRequest(f"{prefix}: HTTP {status} request rejected", **kw)
    return VendorContractError(f"{prefix}: unexpected HTTP {status}", **kw)


class RetryPolicy:
    """When and how long to retry; one instance per connector instance, shared by its calls.

    Args:
        max_attempts: attempts per call, the first included.
        backoff_initial: first full-jitter window, seconds.
        backoff_max: largest window, seconds.
        max_retry_after: longest vendor-requested wait honoured (``Retry-After`` or a reset header), seconds.
        sleep: how to wait (inject a fake for tests).
        clock: wall-clock seconds (inject a fake for tests); deadlines are on this clock.
        rng: uniform [0, 1) source for the jitter.
    """

    def __init__(
        self,
        *,
        max_attempts: int = 3,
        backoff_initial: float = 0.2,
        backoff_max: float = 5.0,
        max_retry_after: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.clock = clock
        self.rng = rng

    def is_retryable(self, error: BaseException, *, idempotent: bool) -> bool:
        """Whether ``error`` may be retried at all (ignoring attempts and deadline)."""
        if not isinstance(error, TransientError) or isinstance(error, CircuitOpen):
            return False
        if idempotent:
            return True
        return isinstance(error, RateLimited) or isinstance(error.__cause__, _NOT_SENT_CAUSES)

    def backoff(self, attempt: int, error: BaseException | None) -> float:
        """Seconds to wait after failed ``attempt``: the vendor's Retry-After, or full jitter."""
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return float(error.retry_after)
        window = min(self.backoff_max, self.backoff_initial * 2.0 ** (attempt - 1))
        return window * self.rng()

    async def run(
        self,
        attempt: Callable[[int], Awaitable[T]],
        *,
        idempotent: bool,
        deadline: float,
    ) -> T:
        """Run ``attempt(n)`` until it returns, or the policy gives up and re-raises its error.

        Args:
            attempt: performs attempt number ``n`` (1-based) and returns or raises.
            idempotent: whether the request may be resent (idempotent method or idempotency key).
            deadline: wall-clock time by which the call must be over; no attempt or wait
                reaches past it.
        """
        try:
            return await attempt(1)
        except ConnectorError as error:
            if self.max_attempts <= 1 or not self.is_retryable(error, idempotent=idempotent):
                raise
            first_error: ConnectorError = error

        async def replay(number: int) -> T:
            if number == 1:
                raise first_error
            return await attempt(number)

        def should_retry(state: RetryCallState) -> bool:
            exc = state.outcome.exception() if state.outcome else None
            return exc is not None and self.is_retryable(exc, idempotent=idempotent)

        def should_stop(state: RetryCallState) -> bool:
            if state.attempt_number >= self.max_attempts:
                return True
            exc = state.outcome.exception() if state.outcome else None
            if (
                isinstance(exc, RateLimited)
                and exc.retry_after is not None
                and exc.retry_after > self.max_retry_after
            ):
                return True
            # Stop when the wait alone reaches the deadline: no time would be left to send.
            return self.clock() + state.upcoming_sleep >= deadline

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            return self.backoff(state.attempt_number, exc)

        retrying = AsyncRetrying(
            sleep=self.sleep, stop=should_stop, wait=wait, retry=should_retry, reraise=True
        )
        counter = itertools.count(1)

        async def next_attempt() -> T:
            # tenacity numbers attempts itself; the counter hands the same number to ``replay``.
            return await replay(next(counter))

        return await retrying(next_attempt)
