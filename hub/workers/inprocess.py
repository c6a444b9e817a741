"""The embedded job backend: an asyncio queue of ids and N worker tasks in this process.

Used when no Redis is configured, both inside the API process (``make run``) and by
``lendhub worker`` on its own. A wake-up from another process cannot reach it; the sweeper
finds such jobs within one sweep interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.jobs import ClaimedJob, JobExecutor, release
from hub.workers.sweeper import Sweeper, sweep_interval_for

__all__ = ["InProcessJobQueue"]

logger = logging.getLogger(__name__)


class InProcessJobQueue:
    """``JobQueue`` plus the workers that drain it.

    Args:
        executor: claims and runs jobs.
        concurrency: worker tasks, hence jobs running at once.
        sweep_interval: seconds between sweeps; derived from the lease when omitted.
    """

    def __init__(
        self, executor: JobExecutor, *, concurrency: int = 4, sweep_interval: float | None = None
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.executor = executor
        self.concurrency = concurrency
        self._queue: asyncio.Queue[str | ClaimedJob] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self.sweeper = Sweeper(
            executor,
            submit=self._queue.put_nowait,
            capacity=self._free_slots,
            interval=sweep_interval or sweep_interval_for(executor.lease_seconds),
        )

    async def notify(self, job_id: str) -> None:
        """Queue a wake-up; duplicates are harmless (the second claim finds the job taken)."""
        self._queue.put_nowait(job_id)

    def _free_slots(self) -> int:
        # Claimed jobs waiting in the queue hold leases too: count them as taken slots.
        return self.concurrency - self.executor.busy - self._queue.qsize()

    @property
    def running(self) -> bool:
        """Whether the workers have been started and not stopped."""
        return bool(self._workers)

    async def start(self) -> None:
        """Start the worker tasks and the sweeper."""
        if self._workers:
            return
        self._workers = [
            asyncio.create_task(self._work(), name=f"job-worker-{n}") for n in range(self.concurrency)
        ]
        self.sweeper.start()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking work, let running jobs finish for up to ``grace`` seconds, then cancel.

        Cancelled jobs roll back and are released for another worker; queued wake-ups are
        dropped (their rows are still pending, so nothing is lost).
        """
        await self.sweeper.stop()
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, ClaimedJob):
                # Claimed by the sweeper but never started: give it back straight away.
                await release(self.executor.session_factory, item)
        await self.executor.wait_idle(grace)
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []

    async def _work(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if isinstance(item, ClaimedJob):
                    await self.executor.execute(item)
                else:
                    await self.executor.run(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Claim or bookkeeping failed (database down?); the row stays claimable and the
                # sweeper retries it, so log and keep the worker alive.
                logger.exception("job worker error on %s", item if isinstance(item, str) else item.id)
