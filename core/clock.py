"""The lender's business date: the calendar day in the lender's time zone, not UTC's.

Ages, due dates and "overdue since" are counted in days as a Chinese lender counts them, so a
customer born on 1 March is 18 on 1 March in Beijing even while UTC still reads 28 February.
``LENDHUB_TIMEZONE`` (an IANA name) overrides the default ``Asia/Shanghai``.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

__all__ = ["business_date", "business_zone"]


@cache
def business_zone() -> ZoneInfo:
    """The lender's time zone."""
    return ZoneInfo(os.environ.get("LENDHUB_TIMEZONE") or "Asia/Shanghai")


def business_date(at: datetime | None = None) -> date:
    """The business date at ``at`` (now by default)."""
    return (at or datetime.now(business_zone())).astimezone(business_zone()).date()
