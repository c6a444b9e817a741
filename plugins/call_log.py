"""The database-backed call recorder the hub injects into every connector.

Recording must never slow or fail a vendor call, so ``record`` only appends to a buffer and a
background task writes batches in their own transactions. The cost: a process killed hard loses
at most the rows of one flush interval (default 0.2 s); a graceful stop flushes everything. A
write that fails is retried on the next flush with the rows kept, up to ``max_buffer`` rows, past
which the oldest are dropped and counted in ``dropped`` (and logged) rather than exhausting memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.call_log import insert_call_records
from plugins.sdk import CallRecord

__all__ = ["DatabaseCallRecorder"]

log = logging.getLogger(__name__)


class DatabaseCallRecorder:
    """Buffers call records and writes them to ``call_log`` in batches.

    Args:
        sessions: session factory of the hub's database.
        flush_interval: seconds between batch writes.
        batch_size: rows per insert.
        max_buffer: rows kept while the database is unavailable.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        flush_interval: float = 0.2,
        batch_size: int = 500,
        max_buffer: int = 100_000,
    ) -> None:
        self.sessions = sessions
        self.flush_interval = flush_interval
        self.batch_size = batch_size
        self._buffer: deque[CallRecord] = deque(maxlen=max_buffer)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    async def record(self, record: CallRecord) -> None:
        """Queue one row; never blocks on the database."""
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped += 1
            log.error("call-log buffer full; dropped the oldest row (%d dropped so far)", self.dropped)
        self._buffer.append(record)

    def start(self) -> None:
        """Start the background flusher (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="call-log-flusher")

    async def flush(self) -> int:
        """Write everything buffered now; returns rows written. Rows stay buffered on failure."""
        written = 0
        while self._buffer:
            batch = [self._buffer.popleft() for _ in range(min(self.batch_size, len(self._buffer)))]
            try:
                async with self.sessions() as session, session.begin():
                    await insert_call_records(session, [dataclasses.asdict(r) for r in batch])
            except Exception:
                log.exception("writing %d call-log rows failed; will retry", len(batch))
                self._buffer.extendleft(reversed(batch))
                return written
            written += len(batch)
        return written

    async def aclose(self) -> None:
        """Stop the flusher and write what is left."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval)
            await self.flush()
