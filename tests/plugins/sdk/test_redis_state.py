"""Redis shared state: correct across processes (two clients stand in for two processes).

Runs only with ``LENDHUB_TEST_REDIS_URL``; when it is set, an unreachable server fails the tests
instead of skipping them, so CI cannot pass silently without Redis.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from redis.asyncio import Redis
from sdk_helpers import DemoConnector, FakeClock, make_config
from waiting import wait_for

from hub.state import RedisBreakerStore, RedisLocks, RedisRateCounter, make_shared_state, redis_shared_state
from plugins.sdk import CircuitOpen, MemoryBreakerStore, SharedState, TransientError

REDIS_URL = os.environ.get("LENDHUB_TEST_REDIS_URL", "")

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="LENDHUB_TEST_REDIS_URL is not set"),
]


@pytest.fixture
def prefix() -> str:
    return f"lendhub-test:{uuid.uuid4().hex}:"


@pytest.fixture
async def clients(prefix: str) -> AsyncIterator[tuple[Redis, Redis]]:
    first, second = Redis.from_url(REDIS_URL), Redis.from_url(REDIS_URL)
    await first.ping()  # unreachable → an error, never a skip
    await second.ping()
    yield first, second
    async for key in first.scan_iter(match=f"{prefix}*"):
        await first.delete(key)
    await first.aclose()
    await second.aclose()


async def test_breaker_state_is_shared_between_processes(clients: tuple[Redis, Redis], prefix: str) -> None:
    a, b = RedisBreakerStore(clients[0], prefix), RedisBreakerStore(clients[1], prefix)
    for now in (100.0, 101.0):
        await a.failure("bureau:main", now=now, threshold=3)
    assert (await b.get("bureau:main")).state == "closed"
    opened = await b.failure("bureau:main", now=102.0, threshold=3)
    assert opened.state == "open" and opened.failures == 3 and opened.opened_at == 102.0
    refused = await a.allow("bureau:main", now=110.0, cooldown=30, probe_ttl=10)
    assert not refused.allowed and refused.retry_after == pytest.approx(22.0)
    # After the cool-down exactly one of many concurrent callers in two processes gets the probe.
    decisions = await asyncio.gather(
        *(store.allow("bureau:main", now=133.0, cooldown=30, probe_ttl=10) for store in (a, b) * 10)
    )
    assert sum(d.allowed for d in decisions) == 1 and sum(d.probe for d in decisions) == 1
    assert (await a.get("bureau:main")).state == "half_open"
    reopened = await b.failure("bureau:main", now=134.0, threshold=3)
    assert reopened.state == "open" and reopened.opened_at == 134.0
    await a.release_probe("bureau:main")
    assert not (await b.allow("bureau:main", now=135.0, cooldown=30, probe_ttl=10)).allowed
    assert (await b.allow("bureau:main", now=165.0, cooldown=30, probe_ttl=10)).probe
    await a.success("bureau:main")
    assert await b.get("bureau:main") == await MemoryBreakerStore().get("x")


async def test_probe_lease_expires_and_can_be_released(clients: tuple[Redis, Redis], prefix: str) -> None:
    store = RedisBreakerStore(clients[0], prefix)
    await store.failure("k", now=0.0, threshold=1)
    assert (await store.allow("k", now=5.0, cooldown=5, probe_ttl=10)).probe
    assert not (await store.allow("k", now=6.0, cooldown=5, probe_ttl=10)).allowed
    await store.release_probe("k")
    assert (await store.allow("k", now=6.0, cooldown=5, probe_ttl=10)).probe
    assert (await store.allow("k", now=16.5, cooldown=5, probe_ttl=10)).probe  # the prober died


async def test_rate_budget_is_shared_and_never_overspent(clients: tuple[Redis, Redis], prefix: str) -> None:
    a, b = RedisRateCounter(clients[0], prefix), RedisRateCounter(clients[1], prefix)
    waits = await asyncio.gather(
        *(counter.reserve("k", rate=10, now=1000.0, max_wait=60) for counter in (a, b) * 15)
    )
    # Ten pass at once (the burst); every further reservation is a distinct 0.1 s slot.
    assert sorted(waits) == pytest.approx([0.0] * 10 + [0.1 * i for i in range(1, 21)])
    refused = await a.reserve("k", rate=10, now=1000.0, max_wait=0.5)
    assert refused == pytest.approx(2.1)
    assert await b.reserve("k", rate=10, now=1000.0, max_wait=60) == pytest.approx(2.1)  # not spent


class RefusalSignal:
    """A Redis client that sets ``refused`` when a ``SET NX`` finds the key taken."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self.refused = asyncio.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.client, name)

    async def set(self, *args: object, **kwargs: object) -> object:
        taken = await self.client.set(*args, **kwargs)  # type: ignore[arg-type]
        if not taken:
            self.refused.set()
        return taken


async def test_lock_is_single_flight_across_processes(clients: tuple[Redis, Redis], prefix: str) -> None:
    other = RefusalSignal(clients[1])
    a, b = RedisLocks(clients[0], prefix, poll=0.002), RedisLocks(other, prefix, poll=0.002)  # type: ignore[arg-type]
    order: list[str] = []
    a_holds = asyncio.Event()

    async def holder() -> None:
        async with a.hold("token-refresh", ttl=5):
            order.append("a+")
            a_holds.set()
            await other.refused.wait()  # b tried while a holds the lock, and was turned away
            order.append("a-")

    async def contender() -> None:
        await a_holds.wait()
        async with b.hold("token-refresh", ttl=5):
            order.append("b+")
            order.append("b-")

    async with asyncio.timeout(5):
        await asyncio.gather(holder(), contender())
    assert order == ["a+", "a-", "b+", "b-"]
    async with a.hold("busy", ttl=5):
        with pytest.raises(TimeoutError):
            async with b.hold("busy", ttl=5, wait=0.02):
                pass


async def test_expired_holder_cannot_release_a_newer_lock(clients: tuple[Redis, Redis], prefix: str) -> None:
    a, b = RedisLocks(clients[0], prefix, poll=0.002), RedisLocks(clients[1], prefix, poll=0.002)
    async with a.hold("k", ttl=0.01):
        entered = b.hold("k", ttl=5, wait=0.5)
        await entered.__aenter__()  # b polls until a's 10 ms lease runs out, then takes the lock
    # a left its block: b must still hold the lock.
    assert await clients[0].get(f"{prefix}lock:k") is not None
    await entered.__aexit__(None, None, None)
    assert await clients[0].get(f"{prefix}lock:k") is None


async def test_cache_round_trip_and_expiry(clients: tuple[Redis, Redis], prefix: str) -> None:
    state = redis_shared_state(clients[0], prefix=prefix, owns_client=False)
    await state.cache.set("report", b"payload", ttl=0.05)
    other = redis_shared_state(clients[1], prefix=prefix, owns_client=False)
    assert await other.cache.get("report") == b"payload"

    async def expired() -> bool:
        return await other.cache.get("report") is None

    await wait_for(expired, within=2, what="the 50 ms entry to expire")
    await state.cache.set("x", b"1", ttl=5)
    await other.cache.delete("x")
    assert await state.cache.get("x") is None


async def test_make_shared_state_chooses_the_backend(prefix: str) -> None:
    memory = make_shared_state(None)
    assert isinstance(memory.breakers, MemoryBreakerStore)
    shared = make_shared_state(REDIS_URL, prefix=prefix)
    try:
        assert isinstance(shared.breakers, RedisBreakerStore)
        await shared.cache.set("probe", b"1", ttl=1)
        assert await shared.cache.get("probe") == b"1"
        await shared.cache.delete("probe")
    finally:
        await shared.aclose()


async def test_connectors_in_two_processes_share_one_breaker(
    clients: tuple[Redis, Redis], prefix: str
) -> None:
    clock = FakeClock()

    def connector(client: Redis, http: httpx.AsyncClient) -> DemoConnector:
        state: SharedState = redis_shared_state(client, prefix=prefix, owns_client=False)
        config = make_config(max_attempts=1, breaker_failure_threshold=2)
        return DemoConnector(config, instance="main", http=http, state=state, clock=clock, sleep=clock.sleep)

    with respx.mock(assert_all_called=False) as router:
        route = router.get("https://api.demo.test/v1/reports").mock(return_value=httpx.Response(503))
        async with httpx.AsyncClient() as http:
            first, second = connector(clients[0], http), connector(clients[1], http)
            for c in (first, second):
                with pytest.raises(TransientError):
                    await c.request("GET", "/reports", operation="fetch_report")
            with pytest.raises(CircuitOpen):
                await first.request("GET", "/reports", operation="fetch_report")
            assert (await second.breaker_snapshot()).state == "open"
    assert route.call_count == 2
