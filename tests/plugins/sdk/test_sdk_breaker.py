"""Circuit breaker: opens at the threshold, probes after the cool-down, closes or reopens."""

from __future__ import annotations

import httpx
import pytest
import respx
from sdk_helpers import Factory, FakeClock

from plugins.sdk import CircuitOpen, InvalidRequest, MemoryBreakerStore, NotFound, TransientError
from plugins.sdk.breaker import CircuitBreaker

REPORT = "https://api.demo.test/v1/reports"


async def fail_n(connector: object, n: int) -> None:
    for _ in range(n):
        with pytest.raises(TransientError):
            await connector.request("GET", "/reports", operation="fetch_report")  # type: ignore[attr-defined]


async def test_breaker_opens_after_threshold_and_refuses_without_sending(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(503))
    connector = make(max_attempts=1, breaker_failure_threshold=3, breaker_cooldown_seconds=30)
    await fail_n(connector, 2)
    assert (await connector.breaker_snapshot()).state == "closed"
    await fail_n(connector, 1)
    snapshot = await connector.breaker_snapshot()
    assert snapshot.state == "open" and snapshot.failures == 3
    assert snapshot.opened_at is not None and snapshot.opened_at.timestamp() == clock.now
    assert snapshot.retry_after == pytest.approx(30)
    with pytest.raises(CircuitOpen) as caught:
        await connector.request("GET", "/reports", operation="fetch_report")
    assert caught.value.retry_after == pytest.approx(30)
    assert route.call_count == 3


async def test_breaker_half_opens_after_cooldown_and_closes_on_success(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(REPORT).mock(side_effect=[httpx.Response(503)] * 2 + [httpx.Response(200, json={})])
    connector = make(max_attempts=1, breaker_failure_threshold=2, breaker_cooldown_seconds=10)
    await fail_n(connector, 2)
    clock.advance(9.9)
    with pytest.raises(CircuitOpen):
        await connector.request("GET", "/reports", operation="x")
    clock.advance(0.2)
    await connector.request("GET", "/reports", operation="x")
    snapshot = await connector.breaker_snapshot()
    assert snapshot.state == "closed" and snapshot.failures == 0
    assert route.call_count == 3


async def test_failed_probe_reopens_the_breaker(
    make: Factory, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get(REPORT).mock(return_value=httpx.Response(503))
    connector = make(max_attempts=1, breaker_failure_threshold=2, breaker_cooldown_seconds=10)
    await fail_n(connector, 2)
    clock.advance(11)
    await fail_n(connector, 1)  # the probe
    snapshot = await connector.breaker_snapshot()
    assert snapshot.state == "open" and snapshot.retry_after == pytest.approx(10)
    with pytest.raises(CircuitOpen):
        await connector.request("GET", "/reports", operation="x")
    assert route.call_count == 3


async def test_permanent_errors_do_not_count_as_failures(make: Factory, router: respx.MockRouter) -> None:
    router.get(REPORT).mock(
        side_effect=[httpx.Response(503), httpx.Response(404), httpx.Response(503), httpx.Response(400)]
    )
    connector = make(max_attempts=1, breaker_failure_threshold=2)
    await fail_n(connector, 1)
    with pytest.raises(NotFound):
        await connector.request("GET", "/reports", operation="x")
    await fail_n(connector, 1)
    with pytest.raises(InvalidRequest):
        await connector.request("GET", "/reports", operation="x")
    assert (await connector.breaker_snapshot()).state == "closed"


async def test_only_one_probe_at_a_time() -> None:
    now = [100.0]
    breaker = CircuitBreaker(
        MemoryBreakerStore(), "k", failure_threshold=1, cooldown=5, probe_ttl=20, clock=lambda: now[0]
    )
    await breaker.record(TransientError("x"))
    now[0] += 6
    assert await breaker.acquire() is True  # the probe
    with pytest.raises(CircuitOpen):
        await breaker.acquire()  # another caller while the probe is in flight
    await breaker.release()  # probe cancelled: the next caller may probe
    assert await breaker.acquire() is True
    now[0] += 21  # a prober that died: its lease expires
    assert await breaker.acquire() is True
    await breaker.record(None)
    assert (await breaker.snapshot()).state == "closed"
    assert await breaker.acquire() is False


async def test_snapshot_as_dict_is_json_ready() -> None:
    breaker = CircuitBreaker(MemoryBreakerStore(), "k", failure_threshold=1, cooldown=5, probe_ttl=5)
    await breaker.record(TransientError("x"))
    data = (await breaker.snapshot()).as_dict()
    assert data["state"] == "open" and data["failures"] == 1 and isinstance(data["opened_at"], str)
