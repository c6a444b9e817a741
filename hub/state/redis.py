"""Redis implementations of the SDK's shared-state protocols.

With ``LENDHUB_REDIS_URL`` set, LendHub runs as many API processes and workers; a connector
instance's breaker, rate budget, single-flight locks and cache must then be one thing, not one per
process. Every state transition is a single Lua script (or a single atomic command), so two
processes can never both take the half-open probe, both spend the last rate slot or both hold a
lock. Times travel as integers (milliseconds or microseconds) because Redis truncates Lua numbers
it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from plugins.sdk.state import BreakerDecision, BreakerState, SharedState

__all__ = [
    "RedisBreakerStore",
    "RedisCache",
    "RedisLocks",
    "RedisNamespace",
    "RedisRateCounter",
    "make_shared_state",
    "redis_shared_state",
]

DEFAULT_PREFIX = "lendhub:"  # RedisNamespace().state; the settings give the deployment's
# Breaker state outlives any sane cool-down, yet a forgotten instance does not linger forever.
BREAKER_TTL_MS = 24 * 3600 * 1000

_ALLOW = """
local h = redis.call('HMGET', KEYS[1], 's', 'o', 'p')
local s = tonumber(h[1]) or 0
if s == 0 then return {1, 0, 0} end
local now = tonumber(ARGV[1])
if s == 1 then
  local ready = (tonumber(h[2]) or now) + tonumber(ARGV[2])
  if now < ready then return {0, 0, ready - now} end
else
  local p = tonumber(h[3])
  if p and now < p then return {0, 0, p - now} end
end
redis.call('HSET', KEYS[1], 's', 2, 'p', now + tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, 1, 0}
"""

_FAILURE = """
local h = redis.call('HMGET', KEYS[1], 's', 'f', 'o')
local s = tonumber(h[1]) or 0
local f = (tonumber(h[2]) or 0) + 1
local o = tonumber(h[3]) or -1
local now = tonumber(ARGV[1])
if s == 2 or (s == 0 and f >= tonumber(ARGV[2])) then
  redis.call('HSET', KEYS[1], 's', 1, 'f', f, 'o', now)
  redis.call('HDEL', KEYS[1], 'p')
  s = 1
  o = now
else
  redis.call('HSET', KEYS[1], 'f', f)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {s, f, o}
"""

_RELEASE_PROBE = """
if redis.call('HGET', KEYS[1], 's') == '2' then redis.call('HDEL', KEYS[1], 'p') end
return 0
"""

_RESERVE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local wait = tat + interval - burst - now
if wait < 0 then wait = 0 end
if wait > max_wait then return string.format('%.0f', wait) end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', new), 'PX', math.ceil((new - now) / 1000) + 1000)
return string.format('%.0f', wait)
"""

_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_STATES = {0: "closed", 1: "open", 2: "half_open"}


@dataclass(frozen=True)
class RedisNamespace:
    """Every Redis key and stream LendHub uses, under one prefix (``LENDHUB_REDIS_PREFIX``).

    Two deployments can then share one Redis database without taking each other's jobs, breakers
    or duplicate memory. The default, ``lendhub``, gives the keys LendHub always used. taskiq's
    own lock (``autoclaim:<group>:<stream>``) names the stream, so it is kept apart too.
    """

    prefix: str = "lendhub"

    @property
    def state(self) -> str:
        """Prefix of the shared state: ``<prefix>:breaker:…``, ``:rate:…``, ``:lock:…``, ``:cache:…``."""
        return f"{self.prefix}:"

    @property
    def jobs(self) -> str:
        """The job stream."""
        return f"{self.prefix}:jobs"

    @property
    def webhooks_seen(self) -> str:
        """Prefix of the webhook duplicate fast path's keys."""
        return f"{self.prefix}:webhooks:seen"


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


class RedisBreakerStore:
    """:class:`~plugins.sdk.state.BreakerStore` in a Redis hash per key."""

    def __init__(self, client: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self.client = client
        self.prefix = f"{prefix}breaker:"
        self._allow = client.register_script(_ALLOW)
        self._failure = client.register_script(_FAILURE)
        self._release = client.register_script(_RELEASE_PROBE)

    async def allow(self, key: str, *, now: float, cooldown: float, probe_ttl: float) -> BreakerDecision:
        """See :meth:`plugins.sdk.state.BreakerStore.allow`."""
        args = [_ms(now), _ms(cooldown), _ms(probe_ttl), BREAKER_TTL_MS]
        allowed, probe, wait_ms = await self._allow(keys=[self.prefix + key], args=args)
        return BreakerDecision(bool(allowed), probe=bool(probe), retry_after=int(wait_ms) / 1000)

    async def success(self, key: str) -> None:
        """See :meth:`plugins.sdk.state.BreakerStore.success`."""
        await self.client.delete(self.prefix + key)

    async def failure(self, key: str, *, now: float, threshold: int) -> BreakerState:
        """See :meth:`plugins.sdk.state.BreakerStore.failure`."""
        args = [_ms(now), threshold, BREAKER_TTL_MS]
        state, failures, opened = await self._failure(keys=[self.prefix + key], args=args)
        opened_at = int(opened) / 1000 if int(opened) >= 0 else None
        return BreakerState(_STATES[int(state)], int(failures), opened_at, None)  # type: ignore[arg-type]

    async def release_probe(self, key: str) -> None:
        """See :meth:`plugins.sdk.state.BreakerStore.release_probe`."""
        await self._release(keys=[self.prefix + key])

    async def get(self, key: str) -> BreakerState:
        """See :meth:`plugins.sdk.state.BreakerStore.get`."""
        raw: list[Any] = await self.client.hmget(self.prefix + key, ["s", "f", "o", "p"])
        state, failures, opened, probe = (int(v) if v is not None else None for v in raw)
        return BreakerState(
            _STATES[state or 0],  # type: ignore[arg-type]
            failures or 0,
            opened / 1000 if opened is not None else None,
            probe / 1000 if probe is not None else None,
        )

    async def reset(self, key: str) -> None:
        """See :meth:`plugins.sdk.state.BreakerStore.reset`."""
        await self.client.delete(self.prefix + key)


class RedisRateCounter:
    """:class:`~plugins.sdk.state.RateCounter`: a theoretical arrival time per key, in microseconds."""

    def __init__(self, client: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self.prefix = f"{prefix}rate:"
        self._reserve = client.register_script(_RESERVE)

    async def reserve(self, key: str, *, rate: float, now: float, max_wait: float) -> float:
        """See :meth:`plugins.sdk.state.RateCounter.reserve`."""
        interval = 1_000_000 / rate
        burst = max(1.0, math.floor(rate)) * interval
        args: list[int | str] = [
            int(now * 1_000_000),
            f"{interval:.0f}",
            f"{burst:.0f}",
            int(max_wait * 1_000_000),
        ]
        wait_us = await self._reserve(keys=[self.prefix + key], args=args)
        return int(wait_us) / 1_000_000


class RedisLocks:
    """:class:`~plugins.sdk.state.Locks` with ``SET NX PX`` and a token-checked release.

    The random token makes release safe: a holder whose lease expired cannot delete the lock a
    newer holder took.
    """

    def __init__(self, client: Redis, prefix: str = DEFAULT_PREFIX, *, poll: float = 0.02) -> None:
        self.client = client
        self.prefix = f"{prefix}lock:"
        self.poll = poll
        self._unlock = client.register_script(_UNLOCK)

    @contextlib.asynccontextmanager
    async def hold(self, key: str, ttl: float, *, wait: float | None = None) -> AsyncIterator[None]:
        """See :meth:`plugins.sdk.state.Locks.hold`."""
        name = self.prefix + key
        token = secrets.token_hex(16)
        async with asyncio.timeout(wait):
            delay = self.poll
            while not await self.client.set(name, token, nx=True, px=max(1, _ms(ttl))):
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.5)
        try:
            yield
        finally:
            await self._unlock(keys=[name], args=[token])


class RedisCache:
    """:class:`~plugins.sdk.state.Cache` on plain keys with ``PX`` expiry."""

    def __init__(self, client: Redis, prefix: str = DEFAULT_PREFIX) -> None:
        self.client = client
        self.prefix = f"{prefix}cache:"

    async def get(self, key: str) -> bytes | None:
        """See :meth:`plugins.sdk.state.Cache.get`."""
        value: bytes | str | None = await self.client.get(self.prefix + key)
        return value.encode() if isinstance(value, str) else value

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        """See :meth:`plugins.sdk.state.Cache.set`."""
        await self.client.set(self.prefix + key, value, px=max(1, _ms(ttl)))

    async def delete(self, key: str) -> None:
        """See :meth:`plugins.sdk.state.Cache.delete`."""
        await self.client.delete(self.prefix + key)


def redis_shared_state(
    client: Redis, *, prefix: str = DEFAULT_PREFIX, owns_client: bool = True
) -> SharedState:
    """Shared state on an existing Redis client; ``owns_client`` closes it with the state."""
    state = SharedState(
        breakers=RedisBreakerStore(client, prefix),
        rates=RedisRateCounter(client, prefix),
        locks=RedisLocks(client, prefix),
        cache=RedisCache(client, prefix),
    )
    if owns_client:
        state.closers.append(client.aclose)
    return state


def make_shared_state(redis_url: str | None, *, prefix: str = DEFAULT_PREFIX) -> SharedState:
    """In-memory state when ``redis_url`` is empty (the embedded default), Redis otherwise.

    No connection is made here; the first operation connects, so start-up does not block on Redis
    and ``/readyz`` reports it instead.
    """
    if not redis_url:
        return SharedState.memory()
    return redis_shared_state(Redis.from_url(redis_url), prefix=prefix)
