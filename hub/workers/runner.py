"""Choosing the job backend from settings, and running a worker until told to stop."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from typing import Protocol

from core import pii
from core.jobs import JobExecutor, JobHandlers, RetryPolicy
from core.jobs.periodic import schedule_periodic
from core.jobs.repository import SessionFactory
from hub.database import check_database, make_engine, make_session_factory
from hub.gc_tuning import tune_gc_for_serving
from hub.keyprints import process_key_sets, verify_keys
from hub.schema import ensure_schema
from hub.secrets import load_key_ring
from hub.settings import Settings
from hub.state import RedisNamespace, per_process_state_warning
from hub.workers.inprocess import InProcessJobQueue
from hub.workers.redis_backend import RedisJobQueue

__all__ = ["JobBackend", "default_owner", "make_job_queue", "run_worker"]

logger = logging.getLogger(__name__)


class JobBackend(Protocol):
    """A ``JobQueue`` with a life cycle: what ``make_job_queue`` returns."""

    async def notify(self, job_id: str) -> None:
        """Wake a worker for the job."""
        ...

    async def start(self) -> None:
        """Connect and, where this process works jobs, start the workers."""
        ...

    async def stop(self, grace: float = 10.0) -> None:
        """Stop gracefully, waiting up to ``grace`` seconds for running jobs."""
        ...


def default_owner() -> str:
    """A lease owner name unique to this process and readable in the ``jobs`` table."""
    return f"{socket.gethostname()}:{os.getpid()}"


def make_job_queue(
    settings: Settings,
    *,
    session_factory: SessionFactory,
    handlers: JobHandlers,
    owner: str | None = None,
    consume: bool | None = None,
    concurrency: int | None = None,
    retry_policy: RetryPolicy | None = None,
) -> JobBackend:
    """The job backend the settings call for: Redis streams when ``redis_url`` is set, else in-process.

    Args:
        settings: supplies ``redis_url``, ``redis_prefix``, ``worker_concurrency`` and
            ``job_lease_seconds``.
        session_factory: sessions on the jobs database.
        handlers: what the jobs run (used only where this process consumes).
        owner: lease owner name; ``default_owner()`` when omitted.
        consume: whether this process runs jobs. Defaults to ``settings.inprocess_workers``; the
            in-process backend always consumes (nothing else could).
        concurrency: jobs at once; ``settings.worker_concurrency`` when omitted.
        retry_policy: backoff between failed attempts.
    """
    executor = JobExecutor(
        session_factory,
        handlers,
        owner=owner or default_owner(),
        lease_seconds=settings.job_lease_seconds,
        retry_policy=retry_policy,
    )
    workers = concurrency or settings.worker_concurrency
    queue: JobBackend
    if settings.redis_url:
        consuming = settings.inprocess_workers if consume is None else consume
        queue = RedisJobQueue(
            settings.redis_url,
            executor=executor if consuming else None,
            concurrency=workers,
            stream=RedisNamespace(settings.redis_prefix).jobs,
        )
    else:
        queue = InProcessJobQueue(executor, concurrency=workers)
    executor.wake = queue.notify  # jobs a handler enqueues start at once, not at the next sweep
    return queue


async def run_worker(
    settings: Settings,
    handlers: JobHandlers,
    *,
    owner: str | None = None,
    concurrency: int | None = None,
    stop: asyncio.Event | None = None,
    grace: float = 30.0,
) -> None:
    """Run jobs until ``stop`` is set, then shut down gracefully (``lendhub worker``).

    The PII key ring is installed first, as ``Runtime.start`` does: jobs read sealed columns (an
    inbox event's payload), so a worker needs the same keys as the API process; like it, the
    worker is refused when its keys differ from the other processes' (``hub.keyprints``).

    Raises:
        DatabaseUnavailable: the database cannot be reached at start, or is not at this code's
            migration head (``SchemaMismatch``; the embedded default is migrated instead), or
            its keys differ from the other processes' (``KeysMismatch``).
    """
    pii.install(load_key_ring(settings))
    engine = make_engine(settings.database_url)
    try:
        await check_database(engine)
        if schema_note := await ensure_schema(engine, migrate=settings.embedded_database):
            logger.warning("%s", schema_note)
        if warning := per_process_state_warning(settings):
            logger.warning("%s", warning)
        await verify_keys(engine, process_key_sets(settings))
        sessions = make_session_factory(engine)
        backend = make_job_queue(
            settings,
            session_factory=sessions,
            handlers=handlers,
            owner=owner,
            consume=True,
            concurrency=concurrency,
        )
        await backend.start()
        await schedule_periodic(sessions, handlers)  # each slot's job is one row, whoever asks
        tune_gc_for_serving(settings.gc_threshold)
        logger.info(
            "worker %s started (%s backend, %d slots, kinds: %s)",
            owner or default_owner(),
            "redis" if settings.redis_url else "in-process",
            concurrency or settings.worker_concurrency,
            ", ".join(handlers) or "none",
        )
        try:
            await (stop or asyncio.Event()).wait()
        finally:
            logger.info("worker stopping; waiting up to %g s for running jobs", grace)
            await backend.stop(grace)
    finally:
        await engine.dispose()
