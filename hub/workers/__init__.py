"""Job backends (in-process asyncio, Redis streams via taskiq) and the worker runner."""

from hub.workers.inprocess import InProcessJobQueue
from hub.workers.redis_backend import RedisJobQueue
from hub.workers.runner import JobBackend, default_owner, make_job_queue, run_worker
from hub.workers.sweeper import Sweeper

__all__ = [
    "InProcessJobQueue",
    "JobBackend",
    "RedisJobQueue",
    "Sweeper",
    "default_owner",
    "make_job_queue",
    "run_worker",
]
