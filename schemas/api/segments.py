"""Customer segments over HTTP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from .common import Flag

__all__ = ["MembershipRead", "SegmentRead", "SegmentWrite"]


class SegmentWrite(BaseModel):
    """A segment's definition: a CEL rule over ``customer`` (its kind, age, tags, profile …)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=200)]
    rule: Annotated[str, Field(max_length=2000, examples=['customer.age >= 30 && "vip" in customer.tags'])]
    description: Annotated[str, Field(max_length=1000)] = ""
    active: Flag = True


class SegmentRead(BaseModel):
    """A segment and how many customers it holds now."""

    code: str
    name: str
    rule: str
    description: str
    active: bool
    version: int
    members: int
    updated_at: datetime


class MembershipRead(BaseModel):
    """Why a customer is in a segment: the rule (and version) and the facts it was judged on."""

    code: str
    name: str
    rule: str
    rule_version: int
    facts: dict[str, Any]
    matched_at: str
