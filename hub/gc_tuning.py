"""Garbage-collector settings for a long-running hub process.

Measured on webhook ingestion (``bench/webhooks.py``), CPython's cyclic collector took a fifth of
the API process's time while reclaiming almost nothing: request handling allocates many short-lived
containers, each 700 of them triggered a young collection, and every full collection re-scanned
the hundreds of thousands of objects that start-up creates (models, routes, plugins) and that live
as long as the process. Reference counting still frees nearly everything at once; the collector
only has to find cycles, and doing that less often costs a little memory, not correctness.
"""

from __future__ import annotations

import gc
import logging

__all__ = ["tune_gc_for_serving"]

log = logging.getLogger(__name__)


def tune_gc_for_serving(threshold: int) -> None:
    """Freeze what start-up built, and collect the young generation every ``threshold`` allocations.

    Call once the process has finished starting. ``threshold`` 0 leaves the collector as it is.
    """
    if threshold <= 0:
        return
    gc.collect()  # what start-up left as garbage goes now, not into the permanent generation
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(threshold, older, oldest)
    log.debug("gc: froze %d start-up objects; young threshold %d", gc.get_freeze_count(), threshold)
