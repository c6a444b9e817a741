"""Durable background jobs: rows in the database, claimed under leases, woken by a queue.

The database is the source of truth. A queue (``JobQueue``) carries only job ids as wake-ups;
a worker claims the row with a conditional UPDATE that sets a lease, runs the handler, and marks
the job done in the handler's own transaction. Hence a lost wake-up only delays a job (a sweeper
claims due and expired rows), a duplicated one is refused by the claim, and a worker killed
mid-job leaves an expiring lease and an uncommitted transaction: the job is redone once, its
database effects never doubled.

Public surface:

* ``enqueue`` / ``take_enqueued`` — add a job in the caller's transaction; notify after commit.
* ``claim``, ``claim_due``, ``complete``, ``fail``, ``renew_lease``, ``release``,
  ``bury_expired`` — the lease protocol (``core.jobs.repository``).
* ``JobHandlers``, ``JobHandler``, ``PermanentJobError`` — what a job runs.
* ``JobExecutor`` — claims and runs jobs for one worker; backends in ``hub.workers`` drive it.
* ``JobQueue`` — the port the in-process and Redis backends implement.
* ``JobHandlers.register_periodic`` / ``core.jobs.periodic.schedule_periodic`` — work run once per
  interval (one job row per slot), scheduled by every process that runs jobs at start-up.
"""

from core.jobs.executor import JobExecutor, LeaseLost
from core.jobs.handlers import JobHandler, JobHandlers, JobQueue, PermanentJobError, UnknownJobKind
from core.jobs.models import Job, JobStatus
from core.jobs.repository import (
    DEFAULT_MAX_ATTEMPTS,
    ClaimedJob,
    RetryPolicy,
    bury_expired,
    claim,
    claim_due,
    complete,
    enqueue,
    fail,
    release,
    renew_lease,
    take_enqueued,
)

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "ClaimedJob",
    "Job",
    "JobExecutor",
    "JobHandler",
    "JobHandlers",
    "JobQueue",
    "JobStatus",
    "LeaseLost",
    "PermanentJobError",
    "RetryPolicy",
    "UnknownJobKind",
    "bury_expired",
    "claim",
    "claim_due",
    "complete",
    "enqueue",
    "fail",
    "release",
    "renew_lease",
    "take_enqueued",
]
