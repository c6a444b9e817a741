"""HTTP shapes of the credit process: flows and versions, decisions, tasks, authority, delegation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from .applications import ReasonCode, Version

__all__ = [
    "AuthorityLimitItem",
    "AuthorityLimits",
    "DecisionRead",
    "DecisionRequest",
    "DelegationCreate",
    "DelegationRead",
    "DryRunRequest",
    "FlowCreate",
    "FlowRead",
    "FlowVersionRead",
    "PublishRequest",
    "SignalsWrite",
    "StaffLink",
    "TaskPage",
    "TaskRead",
]

MAX_SOURCE = 256 * 1024
Username = Annotated[str, Field(min_length=1, max_length=100)]


class FlowCreate(BaseModel):
    """A flow document: as ``definition`` (a JSON object) or as ``source`` text (YAML or JSON)."""

    model_config = ConfigDict(extra="forbid")

    definition: dict[str, Any] | None = None
    source: Annotated[str, Field(max_length=MAX_SOURCE)] | None = None
    format: Literal["yaml", "json"] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> FlowCreate:
        if (self.definition is None) == (self.source is None):
            raise ValueError("give either definition or source")
        return self


class FlowVersionRead(BaseModel):
    """One version: number, status, who saved and published it, its digest and document."""

    key: str
    version: int
    name: str
    status: str
    digest: str
    created_by: str
    created_at: datetime
    published_by: str | None
    published_at: datetime | None
    document: dict[str, Any] | None = None
    created: bool | None = None


class FlowRead(BaseModel):
    """A flow: its key, the published version number and every version (documents of the newest only)."""

    key: str
    name: str
    published: int | None
    versions: list[FlowVersionRead]


class PublishRequest(BaseModel):
    """Which version to publish; the newest when omitted."""

    model_config = ConfigDict(extra="forbid")

    version: Version | None = None


class DryRunRequest(BaseModel):
    """A real ``application_id``, or ``values`` typed in (``amount``, ``product``, ``signals``…)."""

    model_config = ConfigDict(extra="forbid")

    application_id: Annotated[str, Field(max_length=36)] | None = None
    values: dict[str, Any] | None = None
    version: Version | None = None


class DecisionRequest(BaseModel):
    """``approve``, ``reject`` (``reason_codes``), ``return`` (a ``comment``), ``transfer``, ``withdraw``."""

    model_config = ConfigDict(extra="forbid")

    decision: Annotated[str, Field(max_length=20, examples=["approve"])]
    comment: Annotated[str, Field(max_length=2000)] | None = None
    reason_codes: list[ReasonCode] = Field(default_factory=list, max_length=10)
    to_user: Username | None = None
    version: Version | None = None


class DecisionRead(BaseModel):
    """What the decision did: the application's status and stage after it, the stage's outcome."""

    application_id: str
    status: str
    stage: str | None
    stage_outcome: str | None
    decision_id: str | None
    dossier_hash: str | None
    decided_by: str | None
    on_behalf_of: str | None


class TaskRead(BaseModel):
    """One task of the inbox."""

    id: str
    application_id: str
    flow_key: str
    flow_version: int
    stage: str
    stage_name: str
    round: int
    assignee: str | None
    queue: list[str]
    status: str
    escalation: bool
    created_at: datetime
    due_at: datetime | None
    overdue: bool
    reminded_at: datetime | None
    escalated_at: datetime | None
    outcome: str | None


class TaskPage(BaseModel):
    """A page of tasks and how many match."""

    items: list[TaskRead]
    total: int
    limit: int
    offset: int


class AuthorityLimitItem(BaseModel):
    """``role``/``user`` ``subject`` may approve up to ``max_exposure`` (cumulative), per product or all."""

    model_config = ConfigDict(extra="forbid")

    subject_kind: Literal["role", "user"]
    subject: Username
    product_code: Annotated[str, Field(max_length=64)] = ""
    max_exposure: Annotated[str, Field(max_length=30, examples=["500000.00"])]


class AuthorityLimits(BaseModel):
    """The whole authority table (a PUT replaces it)."""

    model_config = ConfigDict(extra="forbid")

    limits: list[AuthorityLimitItem] = Field(max_length=500)


class DelegationCreate(BaseModel):
    """Let ``to_user`` decide my tasks (or ``from_user``'s, with ``flows.manage``) for a period."""

    model_config = ConfigDict(extra="forbid")

    to_user: Username
    from_user: Username | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class DelegationRead(BaseModel):
    """A delegation and whether it is in force now."""

    id: str
    from_user: str
    to_user: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str
    revoked_at: datetime | None
    active: bool


class SignalsWrite(BaseModel):
    """Named risk signals and where they came from."""

    model_config = ConfigDict(extra="forbid")

    signals: dict[str, Any]
    source: Annotated[str, Field(min_length=1, max_length=200)]


class StaffLink(BaseModel):
    """The customer record a member of staff is."""

    model_config = ConfigDict(extra="forbid")

    customer_id: Annotated[str, Field(max_length=36)]
