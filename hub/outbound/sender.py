"""One signed POST to a partner, pinned to the address the SSRF guard checked.

The request carries the Standard Webhooks headers: ``webhook-id`` (the delivery's ``msg_id``,
the same on every retry), ``webhook-timestamp`` (this attempt, Unix seconds) and
``webhook-signature`` (one ``v1,…`` per active secret, space-separated, so a partner mid-rotation
verifies with either). Redirects are never followed. The connection goes to the checked IP
address, with the original ``Host`` header and, for https, the original name for SNI and
certificate checking, so a DNS answer that changes between check and connect (rebinding) cannot
redirect the request inward.

Nothing here logs or returns a secret or a signature; errors name the class of failure.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from datetime import UTC, datetime

import httpx

from core.webhooks_out import AttemptResult, PreparedAttempt
from plugins.sdk import sign_standard_webhook

from .ssrf import AllowList, TargetRefused, TargetUnresolvable, resolve_target

__all__ = ["EXCERPT_BYTES", "USER_AGENT", "parse_retry_after", "send_attempt", "sign_all"]

EXCERPT_BYTES = 1024
USER_AGENT = "LendHub-Webhooks/1"


def sign_all(secrets: tuple[str, ...] | list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: one signature per active secret, space-separated."""
    return " ".join(sign_standard_webhook(secret, msg_id, timestamp, body) for secret in secrets)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or an HTTP date); ``None`` if absent or junk."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.fromtimestamp(now if now is not None else time.time(), UTC)
    return max(0.0, (when - current).total_seconds())


async def _read_excerpt(response: httpx.Response) -> str:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= EXCERPT_BYTES:
            break
    return b"".join(chunks)[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def _failure_words(response: httpx.Response) -> str | None:
    status = response.status_code
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        where = response.headers.get("location", "")[:200]
        return f"HTTP {status} redirect to {where!r} not followed: a redirect counts as a failure"
    if status == 410:
        return "HTTP 410 Gone: the partner retired the endpoint"
    return f"HTTP {status}"


async def send_attempt(
    client: httpx.AsyncClient,
    prepared: PreparedAttempt,
    *,
    allow: AllowList,
    timeout_seconds: float,
) -> AttemptResult:
    """Check the target, sign and POST once; every outcome comes back as an ``AttemptResult``.

    Never raises for a partner's failure: a refused target is ``refused=True`` (permanent), an
    unresolvable host or a network failure is a retryable error, any answer is its status.
    """
    try:
        target = await resolve_target(prepared.url, allow)
    except TargetRefused as exc:
        return AttemptResult(None, error=f"target refused: {exc}", refused=True)
    except TargetUnresolvable as exc:
        return AttemptResult(None, error=str(exc))
    timeout = timeout_seconds
    address = target.addresses[0]
    timestamp = _unix_time()
    original = httpx.URL(prepared.url)
    headers = {
        "host": original.netloc.decode("ascii"),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": prepared.msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_all(prepared.secrets, prepared.msg_id, timestamp, prepared.body),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = client.build_request(
        "POST",
        original.copy_with(host=address),
        content=prepared.body,
        headers=headers,
        timeout=httpx.Timeout(timeout),
        extensions=extensions,
    )
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            response = await client.send(request, stream=True, follow_redirects=False)
            try:
                excerpt = await _read_excerpt(response)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        return AttemptResult(
            None, error=f"no answer within {timeout:g} s", latency_ms=_ms(started), target_ip=address
        )
    except httpx.HTTPError as exc:
        return AttemptResult(
            None,
            error=f"connection failed: {type(exc).__name__}: {str(exc)[:200]}",
            latency_ms=_ms(started),
            target_ip=address,
        )
    return AttemptResult(
        response.status_code,
        error=_failure_words(response),
        latency_ms=_ms(started),
        response_excerpt=excerpt or None,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
        target_ip=address,
    )


def _unix_time() -> int:
    """This attempt's ``webhook-timestamp`` (a seam for tests that need distinct seconds)."""
    return int(time.time())


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
