"""Run one claimed job: handler and completion in one transaction, lease kept alive meanwhile.

This is the part of a worker that does not depend on how wake-ups arrive; the in-process and
Redis backends in ``hub.workers`` both drive a ``JobExecutor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from core.jobs.handlers import JobHandlers, PermanentJobError
from core.jobs.repository import (
    ClaimedJob,
    RetryPolicy,
    SessionFactory,
    claim,
    complete,
    fail,
    release,
    renew_lease,
    take_enqueued,
)

__all__ = ["JobExecutor", "LeaseLost"]

logger = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another worker took the job over; this attempt's effects were rolled back."""


class JobExecutor:
    """Claims and runs jobs for one worker identity.

    Args:
        session_factory: opens sessions on the jobs database.
        handlers: the kind → handler registry.
        owner: this worker's lease owner name (host, pid, something unique per process).
        lease_seconds: how long a claim lasts without renewal; renewed every third of it.
        retry_policy: backoff between failed attempts.
    """

    def __init__(
        self,
        session_factory: SessionFactory,
        handlers: JobHandlers,
        *,
        owner: str,
        lease_seconds: float,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.handlers = handlers
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.retry_policy = retry_policy or RetryPolicy()
        self.wake: Callable[[str], Awaitable[None]] | None = None
        self.busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def wait_idle(self, within: float) -> bool:
        """Wait up to ``within`` seconds for running jobs to finish; ``True`` if none is left."""
        try:
            async with asyncio.timeout(within):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def run(self, job_id: str) -> bool:
        """Claim the job and run it; ``False`` when it was not claimable (done, leased, not due)."""
        job = await claim(self.session_factory, job_id, self.owner, self.lease_seconds)
        if job is None:
            logger.debug("job %s not claimable; wake-up ignored", job_id)
            return False
        await self.execute(job)
        return True

    async def execute(self, job: ClaimedJob) -> None:
        """Run a job this worker has claimed, then record its outcome.

        If this coroutine is cancelled (worker shutting down) the handler's transaction is rolled
        back and the job released for another worker.
        """
        self.busy += 1
        self._idle.clear()
        body = asyncio.create_task(self._run_handler(job), name=f"job:{job.kind}:{job.id}")
        keeper = asyncio.create_task(self._keep_lease(job, body), name=f"lease:{job.id}")
        try:
            await asyncio.wait({body})
        except asyncio.CancelledError:
            body.cancel()
            with contextlib.suppress(BaseException):
                await body
            await asyncio.shield(self._release(job))
            raise
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            self.busy -= 1
            if self.busy == 0:
                self._idle.set()
        await self._record_outcome(job, body)

    async def _run_handler(self, job: ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        async with self.session_factory() as session:
            await handler(session, job.payload, job)
            if not await complete(session, job):
                await session.rollback()
                raise LeaseLost(f"job {job.id}: lease lost before completion")
            await session.commit()
            await self._wake(take_enqueued(session))

    async def _wake(self, job_ids: list[str]) -> None:
        """Wake a worker for each job the handler enqueued; a lost wake-up waits for the sweeper."""
        if self.wake is None:
            return
        for job_id in job_ids:
            try:
                await self.wake(job_id)
            except Exception:
                logger.warning(
                    "could not wake a worker for job %s; the sweeper will find it", job_id, exc_info=True
                )

    async def _record_outcome(self, job: ClaimedJob, body: asyncio.Task[None]) -> None:
        if body.cancelled():
            logger.warning("job %s (%s) stopped: its lease was lost", job.id, job.kind)
            return
        exc = body.exception()
        if exc is None:
            logger.debug("job %s (%s) done on attempt %d", job.id, job.kind, job.attempts)
            return
        if isinstance(exc, LeaseLost):
            logger.warning("%s; another worker owns it now", exc)
            return
        permanent = isinstance(exc, PermanentJobError)
        status = await fail(self.session_factory, job, exc, self.retry_policy, permanent=permanent)
        logger.warning(
            "job %s (%s) attempt %d/%d failed -> %s: %r",
            job.id,
            job.kind,
            job.attempts,
            job.max_attempts,
            status.value if status else "lease lost",
            exc,
        )

    async def _keep_lease(self, job: ClaimedJob, body: asyncio.Task[None]) -> None:
        """Renew the lease every third of its length; stop the handler if it was taken over."""
        interval = self.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                renewed = await renew_lease(self.session_factory, job, self.lease_seconds)
            except Exception:
                # A busy SQLite file or a database blip: try again next tick; if the lease
                # really expires, the fenced completion refuses this attempt anyway.
                logger.warning("job %s: lease renewal failed; retrying", job.id, exc_info=True)
                continue
            if renewed is None:
                body.cancel()
                return

    async def _release(self, job: ClaimedJob) -> None:
        try:
            await release(self.session_factory, job)
        except Exception:
            logger.warning("job %s: could not release on shutdown; its lease will expire", job.id)
