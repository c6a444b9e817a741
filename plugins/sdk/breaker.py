"""The circuit breaker of one connector instance: closed, open, half-open.

When a vendor is down, retrying every call against it only lengthens queues and can get the
lender's account throttled. After ``failure_threshold`` consecutive transient failures the breaker
opens and calls fail at once with :class:`~core.integrations.errors.CircuitOpen` (nothing sent).
After ``cooldown`` seconds it lets exactly one probe through (half-open): a success closes it, a
transient failure reopens it for another cool-down.

Only transient errors count. A 400, a 404 or bad credentials prove the vendor is up and answering,
so they reset the failure count like a success would.

State lives in a :class:`~plugins.sdk.state.BreakerStore` so every process calling the same
instance sees the same breaker.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from core.integrations.errors import CircuitOpen, TransientError

from .state import BreakerStore

__all__ = ["BreakerSnapshot", "CircuitBreaker"]


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    """A breaker as /readyz and ``lendhub plugins`` show it.

    Args:
        state: ``closed``, ``open`` or ``half_open``.
        failures: consecutive transient failures.
        opened_at: when the breaker last opened (UTC), ``None`` when it never did.
        retry_after: seconds until an open breaker lets a probe through; 0 otherwise.
    """

    state: str
    failures: int
    opened_at: datetime | None
    retry_after: float

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form."""
        return {
            "state": self.state,
            "failures": self.failures,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "retry_after": round(self.retry_after, 3),
        }


class CircuitBreaker:
    """One breaker, identified by ``key`` in a shared store.

    Args:
        store: where the state lives (memory or Redis).
        key: usually ``"<slug>:<instance>"``.
        failure_threshold: consecutive transient failures that open the breaker.
        cooldown: seconds an open breaker refuses calls before the half-open probe.
        probe_ttl: how long a probe may hold the half-open slot before another is let through;
            set it to the call's total deadline so a crashed prober cannot wedge the breaker.
        clock: wall-clock seconds; injectable for tests.
        name: how error messages name the instance (``"<slug>/<instance>"``).
    """

    def __init__(
        self,
        store: BreakerStore,
        key: str,
        *,
        failure_threshold: int,
        cooldown: float,
        probe_ttl: float,
        clock: Callable[[], float] = time.time,
        name: str | None = None,
    ) -> None:
        self.store = store
        self.key = key
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self.probe_ttl = probe_ttl
        self.clock = clock
        self.name = name or key

    async def acquire(self, *, connector: str | None = None, operation: str = "") -> bool:
        """Ask to send; return whether this call is the half-open probe.

        Raises:
            CircuitOpen: the breaker is open (or another probe is in flight); nothing may be sent.
        """
        decision = await self.store.allow(
            self.key, now=self.clock(), cooldown=self.cooldown, probe_ttl=self.probe_ttl
        )
        if decision.allowed:
            return decision.probe
        raise CircuitOpen(
            f"{self.name} {operation}: circuit open after repeated failures; "
            f"retry in {decision.retry_after:.1f}s",
            retry_after=decision.retry_after,
            connector=connector,
        )

    async def record(self, error: BaseException | None) -> None:
        """Report the outcome of a call that was let through.

        Args:
            error: ``None`` on success; a TransientError counts as a failure; anything else
                (a permanent vendor answer) counts as proof of life.
        """
        if isinstance(error, TransientError):
            await self.store.failure(self.key, now=self.clock(), threshold=self.failure_threshold)
        else:
            await self.store.success(self.key)

    async def release(self) -> None:
        """Return an unused probe (the call was cancelled or refused locally before sending)."""
        await self.store.release_probe(self.key)

    async def snapshot(self) -> BreakerSnapshot:
        """Current state for health reports."""
        raw = await self.store.get(self.key)
        retry_after = 0.0
        if raw.state == "open" and raw.opened_at is not None:
            retry_after = max(0.0, raw.opened_at + self.cooldown - self.clock())
        opened_at = datetime.fromtimestamp(raw.opened_at, UTC) if raw.opened_at is not None else None
        return BreakerSnapshot(raw.state, raw.failures, opened_at, retry_after)

    async def reset(self) -> None:
        """Close the breaker by hand."""
        await self.store.reset(self.key)
