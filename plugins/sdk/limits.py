"""Per-instance rate and concurrency limits.

A lender's bureau account allows so many queries a second and so many at once; going over gets
429s or, worse, a suspended account. The rate budget lives in a shared
:class:`~plugins.sdk.state.RateCounter` so every process spends from the same one; the concurrency
limit is a per-process semaphore (divide the vendor's limit by the number of processes).

Over the rate, a call waits for its slot — but never past its deadline: when the slot is further
away than the time left, it fails at once with :class:`~core.integrations.errors.RateLimited`
without spending budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from core.integrations.errors import RateLimited

from .state import RateCounter

__all__ = ["Limiter"]


class Limiter:
    """Rate plus concurrency limit of one connector instance.

    Args:
        rates: the shared rate budget store.
        key: budget key, usually ``"<slug>:<instance>"``.
        rate_per_second: requests per second; ``None`` for no rate limit.
        max_concurrency: calls in flight in this process; ``None`` for no limit.
        clock: wall-clock seconds; injectable for tests.
        sleep: how to wait for a rate slot; injectable for tests.
        name: how error messages name the instance.
    """

    def __init__(
        self,
        rates: RateCounter,
        key: str,
        *,
        rate_per_second: float | None,
        max_concurrency: int | None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        name: str | None = None,
    ) -> None:
        self.rates = rates
        self.key = key
        self.rate_per_second = rate_per_second
        self.max_concurrency = max_concurrency
        self.semaphore = asyncio.Semaphore(max_concurrency) if max_concurrency else None
        self.clock = clock
        self.sleep = sleep
        self.name = name or key

    async def wait_for_rate(
        self, *, deadline: float, connector: str | None = None, operation: str = ""
    ) -> None:
        """Wait for a rate slot, or raise RateLimited when it lies beyond ``deadline``."""
        if self.rate_per_second is None:
            return
        now = self.clock()
        wait = await self.rates.reserve(
            self.key, rate=self.rate_per_second, now=now, max_wait=max(0.0, deadline - now)
        )
        if wait <= 0:
            return
        if now + wait > deadline:
            raise RateLimited(
                f"{self.name} {operation}: local rate limit of {self.rate_per_second}/s reached; "
                "no slot before the deadline",
                retry_after=wait,
                connector=connector,
            )
        await self.sleep(wait)

    async def enter(self, *, max_wait: float, connector: str | None = None, operation: str = "") -> None:
        """Take a concurrency slot, waiting at most ``max_wait`` seconds.

        Raises:
            RateLimited: no slot freed up in time.
        """
        semaphore = self.semaphore
        if semaphore is None:
            return
        if not semaphore.locked():
            # Fast path: a free slot is taken without arming a timer.
            await semaphore.acquire()
            return
        try:
            async with asyncio.timeout(max(0.0, max_wait)):
                await semaphore.acquire()
        except TimeoutError:
            raise RateLimited(
                f"{self.name} {operation}: all {self.max_concurrency} concurrent slots "
                "busy until the deadline",
                retry_after=None,
                connector=connector,
            ) from None

    def exit(self) -> None:
        """Give the concurrency slot back."""
        if self.semaphore is not None:
            self.semaphore.release()
