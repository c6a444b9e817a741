"""Shapes shared by every endpoint."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Problem"]


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
