"""Per-partner push limits on the shared rate counter: a minute's pushes at once, then the refill.

Driven with an explicit clock; the Redis case shows two processes (two counters on one server)
spending from one budget.
"""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from core.errors import TooManyRequests
from hub.api.rate_limits import check_partner_rate
from hub.state.redis import RedisRateCounter
from plugins.sdk.state import MemoryRateCounter

T0 = 1_800_000_000.0


async def _admitted(rates, code, per_minute, now, times) -> int:
    passed = 0
    for _ in range(times):
        try:
            await check_partner_rate(rates, code, per_minute, now=now)
        except TooManyRequests:
            break
        passed += 1
    return passed


@pytest.mark.parametrize("per_minute", [1, 3, 7, 60, 119, 120, 600])
async def test_a_minutes_allowance_passes_at_once_and_no_more(per_minute):
    rates = MemoryRateCounter()
    assert await _admitted(rates, "acme", per_minute, T0, per_minute + 5) == per_minute
    with pytest.raises(TooManyRequests) as refused:
        await check_partner_rate(rates, "acme", per_minute, now=T0)
    interval = 60 / per_minute
    assert refused.value.retry_after == max(1, round(interval + 0.4999))
    assert refused.value.code == "leads.rate_limited" and refused.value.params["limit"] == per_minute


async def test_the_allowance_refills_one_push_per_interval_and_partners_are_apart():
    rates = MemoryRateCounter()
    assert await _admitted(rates, "acme", 3, T0, 10) == 3
    assert await _admitted(rates, "beta", 3, T0, 10) == 3  # another partner's budget
    assert await _admitted(rates, "acme", 3, T0 + 19.9, 10) == 0
    assert await _admitted(rates, "acme", 3, T0 + 20.0, 10) == 1
    assert await _admitted(rates, "acme", 3, T0 + 80.0, 10) == 3  # a quiet minute restores it all


async def test_redis_shares_one_budget_between_processes(redis_url):
    first, second = Redis.from_url(redis_url), Redis.from_url(redis_url)
    prefix = f"lendhub-test-{uuid.uuid4().hex[:8]}:"
    try:
        one, two = RedisRateCounter(first, prefix), RedisRateCounter(second, prefix)
        assert await _admitted(one, "acme", 7, T0, 4) == 4
        assert await _admitted(two, "acme", 7, T0, 10) == 3
        with pytest.raises(TooManyRequests) as refused:
            await check_partner_rate(one, "acme", 7, now=T0 + 1)
        assert refused.value.retry_after == 8  # 60/7 s after the burst, less the second gone by
        assert await _admitted(two, "acme", 7, T0 + 60 / 7 + 0.01, 10) == 1
    finally:
        keys = await first.keys(prefix + "*")
        if keys:
            await first.delete(*keys)
        await first.aclose()
        await second.aclose()
