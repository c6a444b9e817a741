"""Waiting in tests: for a condition, with a deadline; never for a fixed time.

A test that sleeps "long enough" for another task is slow on an idle machine and flaky on a busy
one. ``wait_for`` returns as soon as the condition holds and fails, saying what it waited for,
once the deadline passes. To prove that something did *not* happen, wait for a positive event that
must come after it instead (every job finished, a later request answered, a barrier reached).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["wait_for"]


async def wait_for(
    predicate: Callable[[], Any | Awaitable[Any]],
    within: float = 15.0,
    interval: float = 0.02,
    what: str = "condition",
) -> Any:
    """Poll ``predicate`` (plain or async) until it returns something truthy, and return that.

    Raises:
        AssertionError: the predicate stayed falsy for ``within`` seconds.
    """
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within} s")
        await asyncio.sleep(interval)
