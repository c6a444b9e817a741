"""Group commit for webhook ingestion: concurrent requests share one transaction.

Every accepted webhook must be durable before its 2xx, and one transaction per request makes the
commit (and, on SQLite, the single writer lock) the bottleneck under load. Here a request joins a
queue and whoever holds the writer lock writes everything queued so far in one transaction; each
request still returns only after the transaction holding its rows committed. A batch that fails
is retried one request at a time, so one bad request cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.webhooks.repository import NewInboxEvent, NewRequest, StoredDelivery, store_deliveries

__all__ = ["GroupCommit"]


@dataclass
class _Pending:
    request: NewRequest
    events: Sequence[NewInboxEvent]
    future: asyncio.Future[StoredDelivery] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class GroupCommit:
    """Writes queued deliveries in shared transactions of at most ``max_batch`` requests.

    Args:
        sessions: the hub's session factory.
        max_batch: most requests per transaction (bounds the time one lock holder keeps others).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, max_batch: int = 64) -> None:
        self.sessions = sessions
        self.max_batch = max_batch
        self._queue: list[_Pending] = []
        self._lock = asyncio.Lock()

    async def store(self, request: NewRequest, events: Sequence[NewInboxEvent]) -> StoredDelivery:
        """Store one request's events; returns once the transaction holding them committed."""
        item = _Pending(request, events)
        self._queue.append(item)
        async with self._lock:
            while not item.future.done():
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
                await self._write(batch)
        return await item.future

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            async with self.sessions() as session:
                results = await store_deliveries(session, [(p.request, p.events) for p in batch])
                await session.commit()
        except asyncio.CancelledError:
            for pending in batch:  # never leave another request waiting forever
                if not pending.future.done():
                    pending.future.set_exception(RuntimeError("ingestion was cancelled; retry"))
            raise
        except Exception as exc:
            if len(batch) == 1:
                batch[0].future.set_exception(exc)
                return
            for pending in batch:  # isolate the culprit: each alone in its own transaction
                await self._write([pending])
            return
        for pending, stored in zip(batch, results, strict=True):
            pending.future.set_result(stored)
