"""Group commit for webhook ingestion: concurrent requests share one transaction.

Every accepted webhook must be durable before its 2xx, and one transaction per request makes the
commit (and, on SQLite, the single writer lock) the bottleneck under load. Here a request joins a
queue and waits on a future; one writer task per process writes everything queued so far in one
transaction, then the next batch, until the queue is empty. Each request still returns only
after the transaction holding its rows committed. A batch that fails is retried one request at a
time, so one bad request cannot fail its neighbours.

The writer is a task of its own rather than one of the waiting requests, so that a request's
handler awaits one future instead of every step of a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.webhooks.repository import (
    NewInboxEvent,
    NewRequest,
    StoredDelivery,
    count_refusal,
    store_deliveries,
)

__all__ = ["GroupCommit"]

log = logging.getLogger("lendhub.webhooks.group_commit")

AfterCommit = Callable[[list[tuple[NewRequest, StoredDelivery]]], Awaitable[None]]
KnownCheck = Callable[[list[tuple[NewRequest, Sequence[NewInboxEvent]]]], Awaitable[list[bool]]]


@dataclass
class _Pending:
    request: NewRequest
    events: Sequence[NewInboxEvent]
    future: asyncio.Future[StoredDelivery] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    known: asyncio.Future[bool] | None = None  # the fast path's answer, once asked

    def settle(self, result: StoredDelivery | None = None, error: BaseException | None = None) -> None:
        """Answer the waiting request, unless it stopped waiting (cancelled)."""
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            assert result is not None
            self.future.set_result(result)


class GroupCommit:
    """Writes queued deliveries in shared transactions of at most ``max_batch`` requests.

    Args:
        sessions: the hub's session factory.
        max_batch: most requests per transaction (bounds the time one lock holder keeps others).
        refusal_delay: seconds within which refusal counts are written (one transaction).
        max_writers: transactions in flight at once. One for SQLite, which has one writer anyway;
            more on PostgreSQL, where the next batch is written while the last one commits.
        on_commit: called with each request and what was stored for it, once a transaction
            committed and its requests were answered (to wake workers, to remember the events
            in a fast-path cache): one call per transaction. Its failure is logged, not raised.
        known: called with a batch's requests and events before it is written; returns, for
            each, whether all its events are known to be stored already (a fast-path cache, one
            round trip per batch). Those are answered as duplicates without touching the database.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        max_batch: int = 64,
        max_writers: int = 1,
        on_commit: AfterCommit | None = None,
        known: KnownCheck | None = None,
        refusal_delay: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self.on_commit = on_commit
        self.known = known
        self._queue: list[_Pending] = []
        self._refusals: Counter[tuple[str, str, str]] = Counter()
        self._refusal_timer: asyncio.Task[None] | None = None
        self._refusals_due = asyncio.Event()
        self.refusal_delay = refusal_delay
        self.max_writers = max_writers
        self._writers: set[asyncio.Task[None]] = set()
        self._prefetching = False
        self._asking: set[asyncio.Task[None]] = set()

    async def store(self, request: NewRequest, events: Sequence[NewInboxEvent]) -> StoredDelivery:
        """Store one request's events; returns once the transaction holding them committed."""
        item = _Pending(request, events)
        self._queue.append(item)
        self._wake()
        if self.known is not None and not self._prefetching:
            self._prefetching = True
            asyncio.get_running_loop().call_soon(self._prefetch_known)
        return await item.future

    def count_refusal(self, source: str, instance: str, reason: str) -> None:
        """Count a refused request; the counts are written within ``refusal_delay`` seconds.

        A flood of forged requests thus costs one small transaction a second, not one each (on
        SQLite each would take the single write lock). A crash loses at most the counts of that
        second; they are operators' counters, not acknowledgements.
        """
        self._refusals[(source, instance, reason)] += 1
        if self._refusal_timer is None or self._refusal_timer.done():
            self._refusals_due = asyncio.Event()
            self._refusal_timer = asyncio.create_task(self._write_refusals_later(), name="webhook-refusals")

    async def flush(self) -> None:
        """Wait until everything queued, refusal counts included, is written."""
        while any(not writer.done() for writer in self._writers):
            await asyncio.shield(asyncio.gather(*self._writers, return_exceptions=True))
        timer = self._refusal_timer
        if timer is not None and not timer.done():
            self._refusals_due.set()  # write now, and wait for it
            await asyncio.shield(timer)

    async def aclose(self) -> None:
        """At shutdown: write everything queued."""
        await self.flush()

    def _wake(self) -> None:
        # A finished writer leaves the set only when its done-callback has run: count live ones.
        if sum(not writer.done() for writer in self._writers) < self.max_writers:
            writer = asyncio.create_task(self._drain(), name="webhook-group-commit")
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)

    async def _drain(self) -> None:
        batch: list[_Pending] = []
        try:
            while self._queue:
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                batch = await self._skip_known(batch)
                if batch:
                    await self._write(batch)
                batch = []
        except asyncio.CancelledError:
            for pending in [*batch, *self._queue]:  # never leave a request waiting forever
                pending.settle(error=RuntimeError("ingestion was cancelled; retry"))
            self._queue = []
            raise

    async def _write_refusals_later(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.refusal_delay):
                await self._refusals_due.wait()
        await self._write_refusals()

    async def _write_refusals(self) -> None:
        counts, self._refusals = self._refusals, Counter()
        try:
            async with self.sessions() as session, session.begin():
                for (source, instance, reason), n in sorted(counts.items()):
                    await count_refusal(session, source, instance, reason, n=n)
        except Exception:
            log.warning("could not record %d refusal count(s); dropped", sum(counts.values()), exc_info=True)

    def _prefetch_known(self) -> None:
        """Ask the fast path about everything queued and not asked yet, in one round trip.

        Runs as soon as requests queue up, so that the answer is usually in by the time a writer
        takes them, and the round trip overlaps the transaction in flight instead of delaying
        the next one.
        """
        self._prefetching = False
        self._ask([p for p in self._queue if p.known is None])

    def _ask(self, asking: list[_Pending]) -> None:
        if not asking:
            return
        loop = asyncio.get_running_loop()
        for pending in asking:
            pending.known = loop.create_future()
        task = asyncio.create_task(self._ask_known(asking), name="webhook-known")
        self._asking.add(task)
        task.add_done_callback(self._asking.discard)

    async def _ask_known(self, asking: list[_Pending]) -> None:
        assert self.known is not None
        try:
            flags = await self.known([(p.request, p.events) for p in asking])
        except Exception:
            log.warning("the duplicate fast path failed; writing those requests", exc_info=True)
            flags = [False] * len(asking)
        for pending, flag in zip(asking, flags, strict=True):
            assert pending.known is not None
            pending.known.set_result(flag)

    async def _skip_known(self, batch: list[_Pending]) -> list[_Pending]:
        """Answer the requests whose events are all known stored; the rest are to be written."""
        if self.known is None:
            return batch
        self._ask([p for p in batch if p.known is None])  # taken before the prefetch asked
        rest = []
        for pending in batch:
            assert pending.known is not None
            if await pending.known:
                pending.settle(StoredDelivery(duplicates=[e.event_id for e in pending.events], skipped=True))
            else:
                rest.append(pending)
        return rest

    async def _store(self, items: list[tuple[NewRequest, Sequence[NewInboxEvent]]]) -> list[StoredDelivery]:
        async with self.sessions() as session:
            results = await store_deliveries(session, items)
            await session.commit()
        return results

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            results = await self._store([(p.request, p.events) for p in batch])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if len(batch) == 1:
                batch[0].settle(error=exc)
                return
            for pending in batch:  # isolate the culprit: each alone in its own transaction
                await self._write([pending])
            return
        for pending, stored in zip(batch, results, strict=True):
            pending.settle(stored)
        if self.on_commit is not None:
            try:
                await self.on_commit([(p.request, stored) for p, stored in zip(batch, results, strict=True)])
            except Exception:
                log.warning("after-commit work failed for a batch of %d", len(batch), exc_info=True)
