"""Enqueue, claim, complete and fail jobs with conditional UPDATEs that are safe under races.

Every state change is one ``UPDATE … WHERE <expected state> RETURNING``: the database decides who
wins, on SQLite (one writer at a time) and on PostgreSQL (row locks, re-checked ``WHERE`` under
READ COMMITTED) alike. Nothing here trusts the broker: a wake-up that arrives twice finds the row
already claimed, and one that never arrives is covered by ``claim_due`` in the sweeper.

``enqueue`` and ``complete`` work inside the caller's session and transaction (services never
commit). ``claim``, ``claim_due``, ``fail``, ``renew_lease``, ``release`` and ``bury_expired``
own short transactions of their own, because they must be visible to other workers at once.
"""

from __future__ import annotations

import random
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Row, and_, bindparam, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from core.db import new_id, utcnow
from core.jobs.models import Job, JobStatus

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "ClaimedJob",
    "RetryPolicy",
    "bury_expired",
    "claim",
    "claim_due",
    "complete",
    "describe_error",
    "enqueue",
    "fail",
    "job_row",
    "release",
    "renew_lease",
    "take_enqueued",
]

DEFAULT_MAX_ATTEMPTS = 5
_ENQUEUED_KEY = "lendhub.enqueued_job_ids"
_MAX_ERROR_CHARS = 4000

SessionFactory = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job leased to one worker; ``(owner, attempts)`` fences every later write."""

    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    owner: str
    lease_expires_at: datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter between attempts of a failed job.

    The n-th retry waits ``min(max_seconds, base_seconds * factor ** (n - 1))``, shortened by up
    to ``jitter`` of itself at random, so jobs that failed together (a vendor outage) do not all
    come back in the same second.
    """

    base_seconds: float = 5.0
    factor: float = 2.0
    max_seconds: float = 3600.0
    jitter: float = 0.5

    def delay(self, attempt: int) -> timedelta:
        """The wait after the given (1-based) failed attempt."""
        raw = min(self.max_seconds, self.base_seconds * self.factor ** max(attempt - 1, 0))
        return timedelta(seconds=raw * (1.0 - self.jitter * random.random()))


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    run_after: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    dedupe_key: str | None = None,
) -> str:
    """Add a job in the caller's transaction and return its id.

    The caller commits, then wakes a worker with ``JobQueue.notify`` (``take_enqueued`` lists the
    ids this session added). Were the wake-up lost, the sweeper still finds the row.

    Args:
        session: the caller's unit of work; not committed here.
        kind: the handler name registered in ``JobHandlers``.
        payload: JSON-serialisable arguments, typically row ids.
        run_after: earliest start (timezone-aware); now when omitted.
        max_attempts: claims allowed before the job is dead-lettered.
        dedupe_key: when given, the same logical job is enqueued once ever: a second call with
            the key returns the first job's id instead of adding a row (race-safe, through
            ``INSERT … ON CONFLICT DO NOTHING``).
    """
    values = job_row(kind, payload, run_after=run_after, max_attempts=max_attempts, dedupe_key=dedupe_key)
    if dedupe_key is None:
        session.add(Job(**values))  # flushed with the caller's other writes (autoflush or commit)
        job_id: str = values["id"]
    else:
        job_id = await _insert_deduplicated(session, values)
    session.info.setdefault(_ENQUEUED_KEY, []).append(job_id)
    return job_id


def job_row(
    kind: str,
    payload: dict[str, Any],
    *,
    run_after: datetime | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The column values of a new pending job; for callers that insert many rows in one statement.

    Rows inserted this way are not in ``take_enqueued``: the caller notifies their ids itself.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    now = now or utcnow()
    return {
        "id": new_id(),
        "kind": kind,
        "payload": payload,
        "status": JobStatus.PENDING.value,
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_after": run_after or now,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "updated_at": now,
    }


async def _insert_deduplicated(session: AsyncSession, values: dict[str, Any]) -> str:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Job).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
    inserted: str | None = (await session.execute(stmt.returning(Job.id))).scalar_one_or_none()
    if inserted is not None:
        return inserted
    existing = await session.scalar(select(Job.id).where(Job.dedupe_key == values["dedupe_key"]))
    if existing is None:  # pragma: no cover - the conflicting row was deleted meanwhile
        raise RuntimeError(f"job with dedupe_key {values['dedupe_key']!r} vanished")
    return existing


def take_enqueued(session: AsyncSession) -> list[str]:
    """Ids of jobs this session enqueued since the last call; notify them after committing.

    Ids of a transaction that rolled back may be included; notifying them is harmless because
    ``claim`` finds no row.
    """
    ids: list[str] = session.info.pop(_ENQUEUED_KEY, [])
    return ids


# Hot statements are built once, with bind parameters for what varies: building a statement
# (the claim's CTE above all) cost more CPU than running it. Parameter names carry a ``p_``
# prefix because SQLAlchemy reserves column names for the SET clause.
_NOW = bindparam("p_now", type_=Job.__table__.c.updated_at.type)
_EXPIRES = bindparam("p_expires", type_=Job.__table__.c.lease_expires_at.type)
_OWNER = bindparam("p_owner", type_=Job.__table__.c.lease_owner.type)


def _claimable(job: Any = Job) -> ColumnElement[bool]:
    """Due and waiting, or running under a lease that expired with attempts left (at ``p_now``)."""
    return or_(
        and_(job.status.in_([JobStatus.PENDING.value, JobStatus.FAILED.value]), job.run_after <= _NOW),
        and_(
            job.status == JobStatus.RUNNING.value,
            job.lease_expires_at < _NOW,
            job.attempts < job.max_attempts,
        ),
    )


_RETURNED = (Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts, Job.lease_expires_at)


def _claimed(row: Row[Any], owner: str) -> ClaimedJob:
    return ClaimedJob(
        id=row.id,
        kind=row.kind,
        payload=dict(row.payload or {}),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        owner=owner,
        lease_expires_at=row.lease_expires_at,
    )


_LEASE_VALUES: dict[str, Any] = {
    "status": JobStatus.RUNNING.value,
    "lease_owner": _OWNER,
    "lease_expires_at": _EXPIRES,
    "attempts": Job.attempts + 1,
    "updated_at": _NOW,
}


def _lease_params(owner: str, lease_seconds: float) -> dict[str, Any]:
    now = utcnow()
    return {"p_now": now, "p_owner": owner, "p_expires": now + timedelta(seconds=lease_seconds)}


_CLAIM_ONE = (
    update(Job)
    .where(Job.id == bindparam("p_id"), _claimable())
    .values(**_LEASE_VALUES)
    .returning(*_RETURNED)
    .execution_options(synchronize_session=False)
)


def _claim_due_statement() -> Any:
    # The candidates are picked in a CTE over an alias: PostgreSQL evaluates a CTE once, whereas
    # an IN-subquery may be re-scanned per outer row and then exceed its LIMIT; the alias keeps
    # SQLAlchemy from correlating the subquery to the UPDATE's own table.
    candidate = aliased(Job)
    picked = (
        select(candidate.id)
        .where(_claimable(candidate))
        .order_by(candidate.run_after)
        .limit(bindparam("p_batch", type_=Integer()))
        .with_for_update(skip_locked=True)
        .cte("picked")
    )
    return (
        update(Job)
        .where(Job.id.in_(select(picked.c.id)), _claimable())
        .values(**_LEASE_VALUES)
        .returning(*_RETURNED)
        .execution_options(synchronize_session=False)
    )


_CLAIM_DUE = _claim_due_statement()


async def claim(
    session_factory: SessionFactory, job_id: str, owner: str, lease_seconds: float
) -> ClaimedJob | None:
    """Lease one job to ``owner``, or return ``None`` if it is not claimable right now.

    Not claimable means: already done or dead, not yet due, or running under a live lease (a
    duplicate wake-up). Exactly one of several concurrent claimers wins.
    """
    async with session_factory() as session, session.begin():
        params = {"p_id": job_id, **_lease_params(owner, lease_seconds)}
        row = (await session.execute(_CLAIM_ONE, params)).first()
    return None if row is None else _claimed(row, owner)


async def claim_due(
    session_factory: SessionFactory, owner: str, lease_seconds: float, batch: int
) -> list[ClaimedJob]:
    """Lease up to ``batch`` due jobs (oldest ``run_after`` first) for the sweeper.

    On PostgreSQL the candidate rows are picked ``FOR UPDATE SKIP LOCKED`` so several sweepers
    split the backlog instead of queueing on the same rows; SQLite serialises writers anyway.
    """
    if batch < 1:
        return []
    async with session_factory() as session, session.begin():
        params = {"p_batch": batch, **_lease_params(owner, lease_seconds)}
        rows = (await session.execute(_CLAIM_DUE, params)).all()
    return [_claimed(row, owner) for row in rows]


_FENCE = and_(
    Job.id == bindparam("f_id"),
    Job.status == JobStatus.RUNNING.value,
    Job.lease_owner == bindparam("f_owner"),
    Job.attempts == bindparam("f_attempts"),
)


def _fence(job: ClaimedJob, now: datetime | None = None) -> dict[str, Any]:
    """Parameters of a fenced statement: this job, still leased by this owner on this attempt."""
    return {"f_id": job.id, "f_owner": job.owner, "f_attempts": job.attempts, "p_now": now or utcnow()}


_COMPLETE = (
    update(Job)
    .where(_FENCE)
    .values(
        status=JobStatus.DONE.value,
        lease_owner=None,
        lease_expires_at=None,
        finished_at=_NOW,
        updated_at=_NOW,
    )
    .execution_options(synchronize_session=False)
)
_RENEW = (
    update(Job)
    .where(_FENCE)
    .values(lease_expires_at=_EXPIRES, updated_at=_NOW)
    .execution_options(synchronize_session=False)
)
_RELEASE = (
    update(Job)
    .where(_FENCE)
    .values(
        status=JobStatus.PENDING.value,
        lease_owner=None,
        lease_expires_at=None,
        run_after=_NOW,
        updated_at=_NOW,
    )
    .execution_options(synchronize_session=False)
)


async def complete(session: AsyncSession, job: ClaimedJob) -> bool:
    """Mark the job done inside the handler's transaction; ``False`` if the lease was lost.

    Because the caller commits this together with the handler's own writes, a crash before the
    commit leaves the job claimable (redone, effects rolled back) and a crash after it leaves
    the job done (never redone). On ``False`` the caller must roll back.
    """
    result = await session.execute(_COMPLETE, _fence(job))
    return _rowcount(result) == 1


def _rowcount(result: Any) -> int:
    count: int = result.rowcount
    return count


def describe_error(exc: BaseException) -> str:
    """The error class, message and the tail of the traceback, bounded for the ``last_error`` column."""
    text = "".join(traceback.format_exception(exc)).strip()
    head = f"{type(exc).__name__}: {exc}"
    if len(text) <= _MAX_ERROR_CHARS:
        return text
    return f"{head}\n…\n{text[-(_MAX_ERROR_CHARS - len(head) - 3) :]}"


async def fail(
    session_factory: SessionFactory,
    job: ClaimedJob,
    error: BaseException | str,
    policy: RetryPolicy,
    *,
    permanent: bool = False,
) -> JobStatus | None:
    """Record a failed attempt: schedule the retry, or dead-letter the job when out of attempts.

    Returns the new status, or ``None`` when the lease had been lost (another worker owns the
    job now, so this attempt's outcome no longer matters).
    """
    now = utcnow()
    message = error if isinstance(error, str) else describe_error(error)
    values: dict[str, Any] = {
        "lease_owner": None,
        "lease_expires_at": None,
        "last_error": message[:_MAX_ERROR_CHARS],
        "updated_at": now,
    }
    if permanent or job.attempts >= job.max_attempts:
        status = JobStatus.DEAD
        values.update(status=status.value, finished_at=now)
    else:
        status = JobStatus.FAILED
        values.update(status=status.value, run_after=now + policy.delay(job.attempts))
    stmt = update(Job).where(_FENCE).values(**values).execution_options(synchronize_session=False)
    async with session_factory() as session, session.begin():
        result = await session.execute(stmt, _fence(job, now))
    return status if _rowcount(result) == 1 else None


async def renew_lease(
    session_factory: SessionFactory, job: ClaimedJob, lease_seconds: float
) -> datetime | None:
    """Extend a live lease; ``None`` means it was lost and the worker should stop the job."""
    now = utcnow()
    expires = now + timedelta(seconds=lease_seconds)
    async with session_factory() as session, session.begin():
        result = await session.execute(_RENEW, {**_fence(job, now), "p_expires": expires})
    return expires if _rowcount(result) == 1 else None


async def release(session_factory: SessionFactory, job: ClaimedJob) -> bool:
    """Hand a job back unfinished (graceful shutdown) so another worker may start it at once.

    The attempt still counts: ``attempts`` is the fencing token and must only grow.
    """
    async with session_factory() as session, session.begin():
        result = await session.execute(_RELEASE, _fence(job))
    return _rowcount(result) == 1


async def bury_expired(session_factory: SessionFactory) -> int:
    """Dead-letter running jobs whose lease expired on their last allowed attempt.

    Such a job killed its worker (or hung) every time; reclaiming it again would loop forever.
    """
    now = utcnow()
    stmt = (
        update(Job)
        .where(
            Job.status == JobStatus.RUNNING.value,
            Job.lease_expires_at < now,
            Job.attempts >= Job.max_attempts,
        )
        .values(
            status=JobStatus.DEAD.value,
            last_error="lease expired on the final attempt: the worker died or hung mid-job",
            lease_owner=None,
            lease_expires_at=None,
            finished_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    async with session_factory() as session, session.begin():
        result = await session.execute(stmt)
    return _rowcount(result)
