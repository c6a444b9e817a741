"""Shared state behind small interfaces: breaker state, rate counters, locks, caches.

A connector instance may run in one process (the embedded default) or in many API processes and
workers at once. Everything that must agree across them — is the breaker open, how many calls went
out this second, who is refreshing the token, what did the vendor answer a minute ago — goes
through the protocols here. The in-memory implementations below serve the embedded default and the
tests; ``hub.state`` provides the Redis implementations, chosen by ``LENDHUB_REDIS_URL``.

Each protocol operation is a single atomic step (a Lua script in Redis), so two processes can never
both take the half-open probe or both spend the last rate-limit slot.

Times are wall-clock seconds (``time.time()``) supplied by the caller, because monotonic clocks do
not compare across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, runtime_checkable

__all__ = [
    "BreakerDecision",
    "BreakerState",
    "BreakerStore",
    "Cache",
    "Locks",
    "MemoryBreakerStore",
    "MemoryCache",
    "MemoryLocks",
    "MemoryRateCounter",
    "NamespacedCache",
    "NamespacedLocks",
    "RateCounter",
    "SharedState",
]

BreakerStateName = Literal["closed", "open", "half_open"]


@dataclass(frozen=True, slots=True)
class BreakerState:
    """What a breaker store holds for one key.

    Args:
        state: ``closed`` lets calls through, ``open`` refuses them, ``half_open`` lets one probe.
        failures: consecutive transient failures seen since the last success.
        opened_at: wall-clock seconds when the breaker last opened, ``None`` when never.
        probe_until: while a half-open probe is in flight, when its lease expires (a process that
            died mid-probe must not keep the breaker stuck).
    """

    state: BreakerStateName = "closed"
    failures: int = 0
    opened_at: float | None = None
    probe_until: float | None = None


@dataclass(frozen=True, slots=True)
class BreakerDecision:
    """Answer of :meth:`BreakerStore.allow`.

    Args:
        allowed: whether the caller may send.
        probe: the caller holds the single half-open probe and must report its outcome.
        retry_after: when refused, seconds until a call may be let through again.
    """

    allowed: bool
    probe: bool = False
    retry_after: float = 0.0


@runtime_checkable
class BreakerStore(Protocol):
    """Atomic circuit-breaker transitions for many keys (one key per connector instance)."""

    async def allow(self, key: str, *, now: float, cooldown: float, probe_ttl: float) -> BreakerDecision:
        """Decide whether a call may go out; after the cool-down hand out one probe at a time."""
        ...

    async def success(self, key: str) -> None:
        """The vendor answered: reset failures and close the breaker."""
        ...

    async def failure(self, key: str, *, now: float, threshold: int) -> BreakerState:
        """A transient failure: count it, open at the threshold, reopen after a failed probe."""
        ...

    async def release_probe(self, key: str) -> None:
        """Give the probe back without an outcome (the call was cancelled or never sent)."""
        ...

    async def get(self, key: str) -> BreakerState:
        """Current state, for /readyz and ``lendhub plugins``."""
        ...

    async def reset(self, key: str) -> None:
        """Forget everything about the key (an operator closed the breaker by hand)."""
        ...


@runtime_checkable
class RateCounter(Protocol):
    """Reserves slots in a per-key request-rate budget (generic cell rate algorithm)."""

    async def reserve(self, key: str, *, rate: float, now: float, max_wait: float) -> float:
        """Reserve the next slot and return how long to wait for it.

        Args:
            key: the budget, one per connector instance.
            rate: allowed requests per second; bursts of up to ``max(1, rate)`` pass at once.
            now: caller's wall-clock seconds.
            max_wait: the longest the caller is willing to wait.

        Returns:
            Seconds to wait before sending (0 when a slot is free now). When that would exceed
            ``max_wait`` nothing is reserved and the (too long) wait is returned, so the caller
            can refuse without spending budget.
        """
        ...


@runtime_checkable
class Locks(Protocol):
    """Single-flight locks: one holder per key across every process."""

    def hold(self, key: str, ttl: float, *, wait: float | None = None) -> AbstractAsyncContextManager[None]:
        """Hold ``key`` for the block; the lease expires after ``ttl`` seconds if the holder dies.

        Raises:
            TimeoutError: the lock was not acquired within ``wait`` seconds (``None``: wait forever).
        """
        ...


@runtime_checkable
class Cache(Protocol):
    """A byte cache with per-entry time-to-live."""

    async def get(self, key: str) -> bytes | None:
        """The cached value, ``None`` when absent or expired."""
        ...

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds."""
        ...

    async def delete(self, key: str) -> None:
        """Drop the entry if present."""
        ...


class MemoryBreakerStore:
    """Process-local :class:`BreakerStore`; atomic because no method awaits in the middle."""

    def __init__(self) -> None:
        self._states: dict[str, BreakerState] = {}

    async def allow(self, key: str, *, now: float, cooldown: float, probe_ttl: float) -> BreakerDecision:
        """See :meth:`BreakerStore.allow`."""
        current = self._states.get(key)
        if current is None or current.state == "closed":
            return _ALLOWED
        opened = current.opened_at if current.opened_at is not None else now
        if current.state == "open":
            ready_at = opened + cooldown
            if now < ready_at:
                return BreakerDecision(False, retry_after=ready_at - now)
        elif current.probe_until is not None and now < current.probe_until:
            # Half-open with a probe in flight: everyone else waits for its verdict.
            return BreakerDecision(False, retry_after=current.probe_until - now)
        self._states[key] = replace(current, state="half_open", probe_until=now + probe_ttl)
        return BreakerDecision(True, probe=True)

    async def success(self, key: str) -> None:
        """See :meth:`BreakerStore.success`."""
        if key in self._states:
            del self._states[key]

    async def failure(self, key: str, *, now: float, threshold: int) -> BreakerState:
        """See :meth:`BreakerStore.failure`."""
        current = self._states.get(key, _CLOSED)
        failures = current.failures + 1
        if current.state == "half_open" or (current.state == "closed" and failures >= threshold):
            new = BreakerState("open", failures, now, None)
        else:
            new = replace(current, failures=failures)
        self._states[key] = new
        return new

    async def release_probe(self, key: str) -> None:
        """See :meth:`BreakerStore.release_probe`."""
        current = self._states.get(key)
        if current is not None and current.state == "half_open":
            self._states[key] = replace(current, probe_until=None)

    async def get(self, key: str) -> BreakerState:
        """See :meth:`BreakerStore.get`."""
        return self._states.get(key, _CLOSED)

    async def reset(self, key: str) -> None:
        """See :meth:`BreakerStore.reset`."""
        self._states.pop(key, None)


_CLOSED = BreakerState()
_ALLOWED = BreakerDecision(True)


class MemoryRateCounter:
    """Process-local :class:`RateCounter` keeping a theoretical arrival time per key."""

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}

    async def reserve(self, key: str, *, rate: float, now: float, max_wait: float) -> float:
        """See :meth:`RateCounter.reserve`."""
        interval = 1.0 / rate
        burst = max(1.0, math.floor(rate)) * interval
        tat = max(self._tat.get(key, now), now)
        wait = max(0.0, tat + interval - burst - now)
        if wait > max_wait:
            return wait
        self._tat[key] = tat + interval
        return wait


class MemoryLocks:
    """Process-local :class:`Locks`; ``ttl`` is moot because a dead holder dies with the process."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str, ttl: float, *, wait: float | None = None) -> AsyncIterator[None]:
        """See :meth:`Locks.hold`."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with asyncio.timeout(wait):
            await lock.acquire()
        try:
            yield
        finally:
            lock.release()
            if not lock.locked() and self._locks.get(key) is lock and not lock._waiters:
                del self._locks[key]


class MemoryCache:
    """Process-local :class:`Cache`; expired entries are dropped when read."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.time
        self._items: dict[str, tuple[float, bytes]] = {}

    async def get(self, key: str) -> bytes | None:
        """See :meth:`Cache.get`."""
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._items[key]
            return None
        return item[1]

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        """See :meth:`Cache.set`."""
        self._items[key] = (self._clock() + ttl, value)

    async def delete(self, key: str) -> None:
        """See :meth:`Cache.delete`."""
        self._items.pop(key, None)


class NamespacedCache:
    """A :class:`Cache` whose keys all live under ``prefix``, so one store serves many owners.

    Why: the store behind ``SharedState`` is one for the whole process (or the whole Redis), and a
    naive key such as ``"token"`` must not be one token for two lenders' accounts.
    """

    def __init__(self, inner: Cache, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix

    async def get(self, key: str) -> bytes | None:
        """See :meth:`Cache.get`."""
        return await self.inner.get(self.prefix + key)

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        """See :meth:`Cache.set`."""
        await self.inner.set(self.prefix + key, value, ttl=ttl)

    async def delete(self, key: str) -> None:
        """See :meth:`Cache.delete`."""
        await self.inner.delete(self.prefix + key)


class NamespacedLocks:
    """:class:`Locks` under ``prefix``, for the same reason as :class:`NamespacedCache`."""

    def __init__(self, inner: Locks, prefix: str) -> None:
        self.inner = inner
        self.prefix = prefix

    def hold(self, key: str, ttl: float, *, wait: float | None = None) -> AbstractAsyncContextManager[None]:
        """See :meth:`Locks.hold`."""
        return self.inner.hold(self.prefix + key, ttl, wait=wait)


@dataclass
class SharedState:
    """The bundle of shared-state services handed to every connector instance.

    Build it with :meth:`memory` for one process, or ``hub.state.make_shared_state`` to share it
    through Redis. One bundle serves every connector of a process; :class:`~plugins.sdk.HttpConnector`
    hands each instance a :meth:`scoped` view as ``self.state``, so its cache and lock keys are its
    own, and keeps the whole bundle as ``self.shared_state`` for deliberate sharing across
    instances. Breakers and rate counters are keyed by the connector slug and instance already.
    """

    breakers: BreakerStore
    rates: RateCounter
    locks: Locks
    cache: Cache
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    namespace: str = ""
    """The prefix of this view's cache and lock keys; empty for the whole bundle."""

    @classmethod
    def memory(cls) -> SharedState:
        """In-process state: the embedded default and the tests."""
        return cls(MemoryBreakerStore(), MemoryRateCounter(), MemoryLocks(), MemoryCache())

    def scoped(self, namespace: str) -> SharedState:
        """A view whose cache and lock keys live under ``namespace`` (nested views nest).

        The view shares the backing stores but owns no connections: closing it closes nothing.
        """
        prefix = f"{namespace}:"
        return SharedState(
            self.breakers,
            self.rates,
            NamespacedLocks(self.locks, prefix),
            NamespacedCache(self.cache, prefix),
            namespace=f"{self.namespace}{prefix}",
        )

    async def aclose(self) -> None:
        """Release connections held by the backing store (a no-op in memory and for views)."""
        for close in self.closers:
            await close()
        self.closers.clear()
