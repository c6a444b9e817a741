"""The distributed job backend: taskiq over a Redis stream, carrying job ids only.

Producers (API processes) add ``run_job(job_id)`` messages to a stream; ``lendhub worker``
processes read them through a consumer group. The task body claims the job row under a lease,
so Redis is never the source of truth: a message lost with an un-persisted Redis is covered by
each worker's sweeper, and one delivered twice (XAUTOCLAIM after a slow ack, a retried XADD) is
refused by the claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from taskiq.api import run_receiver_task
from taskiq_redis import RedisStreamBroker

from core.jobs import ClaimedJob, JobExecutor
from hub.state import RedisNamespace
from hub.workers.sweeper import Sweeper, sweep_interval_for

__all__ = ["TASK_NAME", "RedisJobQueue"]

logger = logging.getLogger(__name__)

TASK_NAME = "lendhub.run_job"
DEFAULT_STREAM = RedisNamespace().jobs  # settings give the deployment's (LENDHUB_REDIS_PREFIX)
CONSUMER_GROUP = "lendhub-workers"


class RedisJobQueue:
    """``JobQueue`` on a Redis stream; with an executor it also consumes (a worker process).

    Args:
        redis_url: ``redis://host:port/db``.
        executor: when given, ``start`` runs a taskiq receiver and a sweeper in this process;
            without it the queue only publishes wake-ups (an API process).
        concurrency: jobs running at once in this process.
        stream: the stream key; tests use their own to stay isolated.
        sweep_interval: seconds between sweeps; derived from the lease when omitted.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        executor: JobExecutor | None = None,
        concurrency: int = 4,
        stream: str = DEFAULT_STREAM,
        sweep_interval: float | None = None,
    ) -> None:
        self.executor = executor
        self.concurrency = concurrency
        lease_ms = int((executor.lease_seconds if executor else 60.0) * 1000)
        self.broker: Any = RedisStreamBroker(
            redis_url,
            queue_name=stream,
            consumer_group_name=CONSUMER_GROUP,
            consumer_name=executor.owner if executor else None,
            # "0": a group created after messages were added still delivers them.
            consumer_id="0",
            # Reclaim messages of a dead consumer only well after its leases expired; the DB
            # claim decides anyway, this just avoids pointless redeliveries.
            idle_timeout=max(60_000, 2 * lease_ms),
            unacknowledged_lock_timeout=30.0,
            xread_block=1000,
            maxlen=100_000,
        )

        async def run_job(job_id: str) -> None:
            await self._run_job(job_id)

        # A plain function: taskiq renames what it registers, which a bound method refuses.
        self._task = self.broker.register_task(run_job, task_name=TASK_NAME)
        self._receiver: asyncio.Task[None] | None = None
        self._spawned: set[asyncio.Task[None]] = set()
        self.sweeper: Sweeper | None = None
        if executor is not None:
            self.sweeper = Sweeper(
                executor,
                submit=self._spawn,
                capacity=lambda: self.concurrency - executor.busy,
                interval=sweep_interval or sweep_interval_for(executor.lease_seconds),
            )
        self._started = False

    async def notify(self, job_id: str) -> None:
        """Publish a wake-up for the job (XADD)."""
        await self._task.kiq(job_id)

    async def _run_job(self, job_id: str) -> None:
        if self.executor is None:  # pragma: no cover - producers never receive
            return
        try:
            await self.executor.run(job_id)
        except Exception:
            # Acknowledge anyway: the row stays claimable and the sweeper will retry it.
            logger.exception("job %s could not be run", job_id)

    def _spawn(self, job: ClaimedJob) -> None:
        assert self.executor is not None
        task = asyncio.create_task(self.executor.execute(job), name=f"swept-job:{job.id}")
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    async def start(self) -> None:
        """Connect; in a worker, also start consuming the stream and sweeping."""
        if self._started:
            return
        if self.executor is not None:
            self.broker.is_worker_process = True
        await self.broker.startup()
        self._started = True
        if self.executor is not None and self.sweeper is not None:
            self._receiver = asyncio.create_task(
                run_receiver_task(self.broker, max_async_tasks=self.concurrency, run_startup=False),
                name="jobs-redis-receiver",
            )
            self.sweeper.start()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop consuming, let running jobs finish for up to ``grace`` seconds, then disconnect."""
        if self.sweeper is not None:
            await self.sweeper.stop()
        if self._receiver is not None:
            self._receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._receiver
            self._receiver = None
        if self.executor is not None:
            await self.executor.wait_idle(grace)
        for task in list(self._spawned):
            task.cancel()
        if self._spawned:
            await asyncio.gather(*self._spawned, return_exceptions=True)
        if self._started:
            await self.broker.shutdown()
            self._started = False
