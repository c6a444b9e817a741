"""Paging parameters every list endpoint shares, bounded so no value reaches the database raw.

An unbounded ``offset`` once reached SQLite as a number past 64 bits and answered 500
(``OverflowError``); past a million rows, callers narrow with filters (``since``, ``status``)
rather than page that deep, so a million is the limit and anything beyond is a 422.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

__all__ = ["MAX_OFFSET", "MAX_SEQ", "Limit", "Offset"]

MAX_OFFSET = 1_000_000
MAX_SEQ = 2**62

Limit = Annotated[int, Query(ge=1, le=500, description="items per page (at most 500)")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"items to skip (at most {MAX_OFFSET:,})")]
