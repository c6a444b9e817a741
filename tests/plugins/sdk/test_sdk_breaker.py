"""Circuit breaker: opens at the threshold, probes after the cool-down, closes or reopens."""

from __future__ import annotations

import httpx
import pytest
import respx
from sdk_helpers import Factory, FakeClock

from plugins.sdk import CircuitOpen, InvalidRequest, MemoryBreakerStore, NotFound, TransientError
from plugins.sdk.breaker import CircuitBreaker
from plugins.sdk.state import BreakerState

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


def make_breaker(store: MemoryBreakerStore, key: str, now: list[float], **kw: float) -> CircuitBreaker:
    return CircuitBreaker(
        store,
        key,
        failure_threshold=int(kw.get("failure_threshold", 1)),
        cooldown=kw.get("cooldown", 10),
        probe_ttl=kw.get("probe_ttl", 20),
        clock=lambda: now[0],
    )


async def test_two_breakers_in_one_store_keep_separate_state() -> None:
    store = MemoryBreakerStore()
    now = [1000.0]
    down = make_breaker(store, "demo:down", now, failure_threshold=2)
    up = make_breaker(store, "demo:up", now, failure_threshold=2)
    await down.record(TransientError("x"))
    await up.record(None)  # a success on one instance must not wipe the other's count
    await down.record(TransientError("x"))
    assert (await down.snapshot()).state == "open"
    up_snapshot = await up.snapshot()
    assert (up_snapshot.state, up_snapshot.failures) == ("closed", 0)
    assert await up.acquire() is False
    with pytest.raises(CircuitOpen):
        await down.acquire()


async def test_retry_after_is_zero_while_closed_even_with_failures() -> None:
    now = [1000.0]
    breaker = make_breaker(MemoryBreakerStore(), "k", now, failure_threshold=3, cooldown=30)
    await breaker.record(TransientError("x"))
    await breaker.record(TransientError("x"))
    snapshot = await breaker.snapshot()
    assert (snapshot.state, snapshot.failures, snapshot.retry_after) == ("closed", 2, 0.0)
    assert snapshot.opened_at is None


class RememberingStore(MemoryBreakerStore):
    """A store that, as the BreakerState contract allows, remembers when the breaker last opened."""

    def __init__(self, state: BreakerState) -> None:
        super().__init__()
        self.state = state

    async def get(self, key: str) -> BreakerState:
        return self.state


@pytest.mark.parametrize("state", ["closed", "half_open"])
async def test_retry_after_is_zero_unless_open_even_when_the_store_remembers_opened_at(state: str) -> None:
    now = [1000.0]
    store = RememberingStore(BreakerState(state, 0, opened_at=now[0] - 1, probe_until=None))  # type: ignore[arg-type]
    snapshot = await make_breaker(store, "k", now, cooldown=60).snapshot()
    assert snapshot.state == state and snapshot.retry_after == 0.0
    assert snapshot.opened_at is not None


async def test_open_breaker_retry_after_counts_down_to_zero_and_never_below() -> None:
    now = [1000.0]
    breaker = make_breaker(MemoryBreakerStore(), "k", now, cooldown=10)
    await breaker.record(TransientError("x"))
    now[0] += 9.5
    assert (await breaker.snapshot()).retry_after == pytest.approx(0.5)
    now[0] += 5  # past the cool-down, no probe yet: still "open", nothing left to wait
    snapshot = await breaker.snapshot()
    assert snapshot.state == "open" and snapshot.retry_after == 0.0


async def test_snapshot_as_dict_has_exactly_the_documented_keys_and_values() -> None:
    now = [1_700_000_000.0]
    breaker = make_breaker(MemoryBreakerStore(), "k", now, cooldown=10)
    await breaker.record(TransientError("x"))
    now[0] += 2.12345
    assert (await breaker.snapshot()).as_dict() == {
        "state": "open",
        "failures": 1,
        "opened_at": "2023-11-14T22:13:20+00:00",
        "retry_after": 7.877,
    }
    closed = make_breaker(MemoryBreakerStore(), "other", now)
    assert (await closed.snapshot()).as_dict() == {
        "state": "closed",
        "failures": 0,
        "opened_at": None,
        "retry_after": 0.0,
    }


async def test_circuit_open_names_the_instance_operation_wait_and_connector() -> None:
    now = [1000.0]
    breaker = CircuitBreaker(
        MemoryBreakerStore(),
        "demo:main",
        failure_threshold=1,
        cooldown=12,
        probe_ttl=20,
        clock=lambda: now[0],
        name="demo/main",
    )
    await breaker.record(TransientError("x"))
    now[0] += 2
    with pytest.raises(CircuitOpen) as caught:
        await breaker.acquire(connector="demo", operation="fetch_report")
    assert str(caught.value) == "demo/main fetch_report: circuit open after repeated failures; retry in 10.0s"
    assert caught.value.connector == "demo"
    assert caught.value.retry_after == pytest.approx(10)


async def test_circuit_open_names_the_key_when_no_name_is_given_and_no_operation() -> None:
    breaker = make_breaker(MemoryBreakerStore(), "demo:main", [1000.0], cooldown=5)
    await breaker.record(TransientError("x"))
    with pytest.raises(CircuitOpen) as caught:
        await breaker.acquire()
    assert str(caught.value) == "demo:main : circuit open after repeated failures; retry in 5.0s"
    assert caught.value.connector is None


async def test_reset_closes_an_open_breaker_by_hand_and_only_that_one() -> None:
    store = MemoryBreakerStore()
    now = [1000.0]
    first, second = make_breaker(store, "demo:a", now), make_breaker(store, "demo:b", now)
    await first.record(TransientError("x"))
    await second.record(TransientError("x"))
    await first.reset()
    snapshot = await first.snapshot()
    assert (snapshot.state, snapshot.failures, snapshot.opened_at) == ("closed", 0, None)
    assert await first.acquire() is False
    assert (await second.snapshot()).state == "open"
