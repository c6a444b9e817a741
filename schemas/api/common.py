"""Shapes shared by every endpoint."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, StrictBool

__all__ = ["Flag", "Problem", "Timestamp"]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]|$)")


def _iso_text(value: Any) -> Any:
    """Only ISO 8601 text (or a datetime) is a time here: ``0.5`` or ``0`` would be 1970."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        return value.strip()
    raise ValueError("expected an ISO 8601 time with its offset, e.g. 2026-12-06T08:00:00+08:00")


Flag = StrictBool
"""A boolean that is ``true`` or ``false`` only: ``0``, ``0.0`` or ``"no"`` are refused, not guessed."""

Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
"""A time given as ISO 8601 text with its offset; numbers are refused rather than read as epochs."""


class Problem(BaseModel):
    """An RFC 9457 problem details body (``application/problem+json``).

    ``type`` is a stable URI-ish slug clients can switch on; ``detail`` is for people.
    """

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = None
