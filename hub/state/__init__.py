"""Shared state for the hub: in memory by default, Redis when ``LENDHUB_REDIS_URL`` is set."""

from .redis import (
    RedisBreakerStore,
    RedisCache,
    RedisLocks,
    RedisNamespace,
    RedisRateCounter,
    make_shared_state,
    redis_shared_state,
)
from .scope import per_process_state_warning

__all__ = [
    "RedisBreakerStore",
    "RedisCache",
    "RedisLocks",
    "RedisNamespace",
    "RedisRateCounter",
    "make_shared_state",
    "per_process_state_warning",
    "redis_shared_state",
]
