"""Per-partner push rate limits, spent from the hub's shared rate counter.

The counter is the one connectors' rate budgets use (``plugins.sdk.state.RateCounter``, kept in
Redis when ``LENDHUB_REDIS_URL`` is set, in memory otherwise), so every API process spends from the
same budget per partner. It is a generic cell rate counter whose burst is one second's worth;
a partner allowed N pushes a minute should be able to send them together, so the limit is applied
by letting a push run up to a minute minus one interval ahead of the steady rate: ``reserve`` is
called with that allowance as ``max_wait`` and a reserved slot within it is admitted at once, not
waited for. N pushes pass at once, the next one a refill interval (60/N s) later; a refused push
spends nothing and is told how long to wait (``Retry-After``).
"""

from __future__ import annotations

import math
import time

from core.errors import TooManyRequests
from plugins.sdk.state import RateCounter

__all__ = ["check_partner_rate"]

_KEY = "leads.partner:"


async def check_partner_rate(
    rates: RateCounter, partner_code: str, per_minute: int, *, now: float | None = None
) -> None:
    """Admit one push of ``partner_code`` or raise ``TooManyRequests`` with the seconds to wait."""
    rate = per_minute / 60.0
    interval = 60.0 / per_minute
    burst_slots = max(1, math.floor(rate))  # what the counter lets through without waiting
    # A millisecond of slack absorbs rounding (Redis counts whole microseconds), never a whole push.
    allowance = (per_minute - burst_slots) * interval + 0.001
    wait = await rates.reserve(
        _KEY + partner_code, rate=rate, now=time.time() if now is None else now, max_wait=allowance
    )
    if wait > allowance:
        raise TooManyRequests(
            "leads.rate_limited",
            retry_after=max(1, math.ceil(wait - allowance)),
            partner=partner_code,
            limit=per_minute,
        )
