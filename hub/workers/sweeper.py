"""The sweeper: finds work no wake-up announced, so a lost message only delays a job.

Every ``interval`` it dead-letters jobs whose final lease expired, then claims as many due jobs
(new ones whose wake-up was lost, retries whose backoff elapsed, running jobs whose worker
died) as the worker has free capacity, and hands them over already claimed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from core.jobs import ClaimedJob, JobExecutor, bury_expired, claim_due

__all__ = ["Sweeper", "sweep_interval_for"]

_BACKLOG_POLL = 0.02
"""Seconds between claims while due work is waiting: a capacity check, no query, when all busy."""

logger = logging.getLogger(__name__)


def sweep_interval_for(lease_seconds: float) -> float:
    """A sweep period proportionate to the lease: expired leases are noticed promptly."""
    return max(0.1, min(5.0, lease_seconds / 4))


class Sweeper:
    """Periodically claims due and expired jobs for one worker.

    Args:
        executor: claims on behalf of its owner, with its lease length.
        submit: takes a claimed job for execution (must not block).
        capacity: how many more jobs the worker can start now.
        interval: seconds between sweeps.
        batch: most jobs claimed per sweep.
    """

    def __init__(
        self,
        executor: JobExecutor,
        *,
        submit: Callable[[ClaimedJob], None],
        capacity: Callable[[], int],
        interval: float,
        batch: int = 100,
    ) -> None:
        self._executor = executor
        self._submit = submit
        self._capacity = capacity
        self.interval = interval
        self._batch = batch
        self._task: asyncio.Task[None] | None = None

    async def sweep_once(self) -> int:
        """One sweep; returns how many jobs were claimed."""
        await self._bury()
        claimed, _ = await self._claim()
        return claimed

    async def _bury(self) -> None:
        buried = await bury_expired(self._executor.session_factory)
        if buried:
            logger.warning("dead-lettered %d job(s) whose final lease expired", buried)

    async def _claim(self) -> tuple[int, int]:
        """Claim up to the free capacity; returns (claimed, room) so the loop can spot a backlog."""
        executor = self._executor
        room = min(self._batch, self._capacity())
        if room <= 0:
            return 0, 0
        jobs = await claim_due(executor.session_factory, executor.owner, executor.lease_seconds, room)
        for job in jobs:
            self._submit(job)
        if jobs:
            logger.debug("sweeper claimed %d job(s)", len(jobs))
        return len(jobs), room

    def start(self) -> None:
        """Start sweeping in the background (first sweep immediately)."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="jobs-sweeper")

    async def stop(self) -> None:
        """Stop sweeping; jobs already submitted are unaffected."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        # Without a broker that reaches this process (several worker processes on the embedded
        # backend), the sweeper is the only way work arrives; so while a sweep fills every free
        # slot there is probably more due, and it claims again as soon as a slot frees up
        # instead of idling a whole interval. Burying expired leases stays on the interval.
        loop = asyncio.get_running_loop()
        last_bury = -self.interval
        while True:
            backlog = False
            try:
                if loop.time() - last_bury >= self.interval:
                    await self._bury()
                    last_bury = loop.time()
                claimed, room = await self._claim()
                backlog = claimed == room
            except Exception:
                # The database may be briefly unavailable; the next sweep tries again.
                logger.exception("job sweep failed")
            await asyncio.sleep(_BACKLOG_POLL if backlog else self.interval)
