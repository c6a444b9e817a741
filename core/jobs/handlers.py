"""The registry of job handlers and the port a queue backend implements.

A handler is ``async def handler(session, payload, job) -> None``. It runs inside a transaction
that also marks the job done, so its database writes happen exactly once. Anything it does
outside the database (an HTTP call to a vendor, an e-mail) happens *at least* once: the worker
can die after the call and before the commit, and the job is then redone. Handlers must
therefore be idempotent — pass an idempotency key derived from the job or event id to vendors,
and check for existing rows before inserting.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any, Protocol, overload

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.jobs.periodic import PeriodicWork, next_slot, periodic_handler
from core.jobs.repository import ClaimedJob

__all__ = ["JobHandler", "JobHandlers", "JobQueue", "PermanentJobError", "UnknownJobKind"]

JobHandler = Callable[[AsyncSession, dict[str, Any], ClaimedJob], Awaitable[None]]


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help; the job is dead-lettered at once."""


class UnknownJobKind(LookupError):
    """No handler is registered for a job's kind (retried: a newer worker may know it)."""


class JobQueue(Protocol):
    """Wakes workers for a committed job. Carries ids only; the row is the truth.

    A lost wake-up delays a job until the next sweep; a duplicated one is refused by the claim.
    """

    async def notify(self, job_id: str) -> None:
        """Tell some worker that the job with this id may be ready."""
        ...


class JobHandlers:
    """Maps a job kind to its handler; the host builds one per process (no module globals)."""

    def __init__(self) -> None:
        self._handlers: dict[str, JobHandler] = {}
        self._every: dict[str, timedelta] = {}

    @overload
    def register(self, kind: str, handler: JobHandler) -> JobHandler: ...

    @overload
    def register(self, kind: str, handler: None = None) -> Callable[[JobHandler], JobHandler]: ...

    def register(
        self, kind: str, handler: JobHandler | None = None
    ) -> JobHandler | Callable[[JobHandler], JobHandler]:
        """Register ``handler`` for ``kind``; usable as ``@handlers.register("kind")``.

        Raises:
            ValueError: the kind already has a handler (two plugins fighting over a name should
                fail loudly at start-up, not alternate at run time).
        """

        def add(func: JobHandler) -> JobHandler:
            if kind in self._handlers:
                raise ValueError(f"a handler for job kind {kind!r} is already registered")
            self._handlers[kind] = func
            return func

        return add if handler is None else add(handler)

    def register_periodic(self, kind: str, work: PeriodicWork, *, every: timedelta) -> None:
        """Run ``work(session, now)`` once per ``every`` (see ``core.jobs.periodic``).

        The host schedules the first run at start-up with ``schedule_periodic``; each run
        schedules the next.

        Raises:
            ValueError: the kind already has a handler, or ``every`` is not positive.
        """
        next_slot(every, utcnow())  # refuses a non-positive interval before anything is registered
        self.register(kind, periodic_handler(kind, every, work))
        self._every[kind] = every

    @property
    def periodic(self) -> Mapping[str, timedelta]:
        """Periodic kinds and their intervals."""
        return MappingProxyType(self._every)

    def get(self, kind: str) -> JobHandler:
        """The handler for ``kind``.

        Raises:
            UnknownJobKind: nothing is registered under that name.
        """
        try:
            return self._handlers[kind]
        except KeyError:
            raise UnknownJobKind(f"no handler registered for job kind {kind!r}") from None

    def __contains__(self, kind: object) -> bool:
        return kind in self._handlers

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._handlers))

    def __len__(self) -> int:
        return len(self._handlers)
