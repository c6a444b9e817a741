"""The Redis fast path for duplicates: answer a partner's retry without touching the database.

A key is set only *after* the event is committed to the inbox (or found there), never before:
were it set first and the commit then failed, the partner's retry would be acknowledged and the
event lost. So the cache can only say "stored already", which is always true when it says it;
the inbox's unique constraint stays the source of truth for everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["DedupeCache"]

log = logging.getLogger(__name__)

_SET_ALL = """
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1])
end
return #KEYS
"""
"""``SET NX EX`` for every key in one command: a pipeline of one ``SET`` per event cost the API
about a twentieth of its CPU in redis-py's command packing. (One Redis, not a cluster: the keys
of one script need not share a slot.)"""


class DedupeCache:
    """Remembers stored ``(source, instance, event_id)`` keys in Redis for ``ttl_seconds``.

    Redis errors are logged and treated as a miss: the database still deduplicates. ``prefix`` is
    the deployment's (``RedisNamespace.webhooks_seen``), so two sharing a Redis keep apart.
    """

    def __init__(self, redis: Redis, *, ttl_seconds: int, prefix: str) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self.prefix = prefix
        self._set_all = redis.register_script(_SET_ALL)

    def _key(self, source: str, instance: str, event_id: str) -> str:
        return f"{self.prefix}:{source}:{instance}:{event_id}"

    async def known(self, items: Sequence[tuple[str, str, Sequence[str]]]) -> list[bool]:
        """For each ``(source, instance, event_ids)``: are all its events known stored? One ``MGET``."""
        keyed = [
            [self._key(source, instance, e) for e in sorted(set(ids))] for source, instance, ids in items
        ]
        flat = [key for keys in keyed for key in keys]
        if not flat:
            return [False] * len(items)
        try:
            values = await self.redis.mget(flat)
        except RedisError:
            log.warning("webhook dedupe cache unavailable; falling back to the database", exc_info=True)
            return [False] * len(items)
        present = {key for key, value in zip(flat, values, strict=True) if value is not None}
        return [bool(keys) and all(key in present for key in keys) for keys in keyed]

    async def remember(self, keys: Sequence[tuple[str, str, str]]) -> None:
        """Mark ``(source, instance, event_id)`` keys as stored (``SET NX`` with the TTL): one command."""
        if not keys:
            return
        try:
            await self._set_all(keys=[self._key(*key) for key in keys], args=[self.ttl_seconds])
        except RedisError:
            log.warning("webhook dedupe cache unavailable; not remembering", exc_info=True)
