"""Refusals in the log without flooding it: the first of a kind at once, then one line a minute.

A partner with a wrong secret, or an attacker posting forgeries, can send thousands of refused
requests a second; one WARNING each would bury everything else (the counters in
``webhook_refusals`` keep the exact numbers). Per source, instance and reason, the first refusal
is logged, and later ones within the interval are counted and reported by the next line logged
after it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["RefusalLog"]


class RefusalLog:
    """At most one line per (source, instance, reason) per ``interval`` seconds."""

    def __init__(
        self, logger: logging.Logger, *, interval: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._last: dict[tuple[str, str, str], float] = {}
        self._held: dict[tuple[str, str, str], int] = {}

    def refused(self, source: str, instance: str, status: int, reason: str) -> None:
        """Note one refusal; log it unless one like it was logged within the interval."""
        key = (source[:100], instance[:100], reason[:100])
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return
        held = self._held.pop(key, 0)
        self._last[key] = now
        if len(self._last) > 10_000:  # forged source or instance names must not grow this forever
            self._last = {key: now}
        suffix = f" (and {held} more like it in the last {self.interval:g} s)" if held else ""
        self.logger.warning(
            "webhook refused: source=%s instance=%s status=%d reason=%s%s",
            key[0],
            key[1],
            status,
            key[2],
            suffix,
        )
