"""Bulk imports over HTTP: the state of one uploaded file's load."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["ImportRead"]


class ImportRead(BaseModel):
    """Where an import stands; ``rejected`` rows are listed in the report (``/report``)."""

    id: str
    kind: str
    filename: str
    status: str = Field(description="pending, running or done")
    rows: int
    processed: int
    created: int
    rejected: int
    requested_by: str
    repeated: bool = Field(False, description="this file was uploaded before; the earlier import is answered")
    created_at: datetime
    finished_at: datetime | None = None
