"""Loan applications over HTTP: open, list, read, change, submit, move, history; gates and policy.

Every read is scoped in SQL by ``core.applications``; an application outside the caller's scope
answers 404 exactly like one that does not exist. Status moves go through
``core.applications.service.transition``, which checks the permission each move needs
(``applications.write`` to submit or withdraw, ``applications.decide`` to review and decide) in the
application's scope: the move route itself only needs the application to be readable.

Form values are sealed at rest and shown, on a single read, to callers within the application's
``applications.read`` scope: they are what an officer fills in and a reviewer reviews. Lists and
the 360° view never carry them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, Branch, User
from core.applications import config
from core.applications.gates import GateSpec
from core.applications.models import Application
from core.applications.repository import COUNT_CAP, SORTS, ApplicationQuery, get_visible, history, search
from core.applications.service import DraftChanges, change_status, create_draft, submit, update_draft
from core.applications.states import allowed_from
from core.errors import Invalid
from core.flows.engine import cancel_open_tasks
from core.flows.engine import start as start_flow
from core.forms.models import FormVersion
from core.products.models import Product
from schemas.api.applications import (
    ApplicationCreate,
    ApplicationPage,
    ApplicationRead,
    ApplicationUpdate,
    GateItem,
    GatesRead,
    GatesWrite,
    PolicyRead,
    PolicyWrite,
    SubmitRequest,
    TransitionRead,
    TransitionRequest,
)
from schemas.api.common import Timestamp

from ...crm import APPLICATION_GATES
from ...deps import SessionDep
from ..paging import Limit, Offset
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["applications"])

SORT_KEYS = [*SORTS, *(f"-{key}" for key in SORTS)]


async def _labels(session: AsyncSession, rows: Sequence[Application]) -> dict[str, dict[str, Any]]:
    """Usernames, branch codes, product codes and form version numbers of ``rows``, in four queries."""

    async def pairs(id_column: Any, label: Any, ids: set[Any]) -> dict[str, Any]:
        ids.discard(None)
        return (
            dict((await session.execute(select(id_column, label).where(id_column.in_(ids)))).all())
            if ids
            else {}
        )

    return {
        "users": await pairs(User.id, User.username, {r.owner_id for r in rows}),
        "branches": await pairs(Branch.id, Branch.code, {r.branch_id for r in rows}),
        "products": await pairs(Product.id, Product.code, {r.product_id for r in rows}),
        "forms": await pairs(FormVersion.id, FormVersion.version, {r.form_version_id for r in rows}),
    }


def _read(application: Application, labels: dict[str, dict[str, Any]], *, values: bool) -> ApplicationRead:
    return ApplicationRead.model_validate(
        {
            "id": application.id,
            "customer_id": application.customer_id,
            "product_id": application.product_id,
            "product_code": labels["products"].get(application.product_id, ""),
            "form_version": labels["forms"].get(application.form_version_id or ""),
            "amount": application.amount,
            "term_months": application.term_months,
            "repayment_method": application.repayment_method,
            "purpose": application.purpose,
            "values": dict(application.values or {}) if values else None,
            "channel": application.channel,
            "channel_partner": application.channel_partner,
            "lead_id": application.lead_id,
            "status": application.status,
            "next_statuses": list(allowed_from(application.status)),
            "stage": application.stage,
            "flow_key": application.flow_key,
            "flow_version": application.flow_version,
            "owner": labels["users"].get(application.owner_id),
            "branch": labels["branches"].get(application.branch_id),
            "created_by": application.created_by,
            "submitted_at": application.submitted_at,
            "decided_at": application.decided_at,
            "expires_at": application.expires_at,
            "version": application.version,
            "created_at": application.created_at,
            "updated_at": application.updated_at,
        }
    )


async def _one(session: AsyncSession, application: Application) -> ApplicationRead:
    return _read(application, await _labels(session, [application]), values=True)


def _policy_read(policy: config.Policy) -> PolicyRead:
    return PolicyRead(
        draft_expiry_days=policy.draft_expiry_days, updated_at=policy.updated_at, updated_by=policy.updated_by
    )


@router.get("/applications/policy")
async def get_policy(session: SessionDep, actor: Actor = require("applications.read")) -> PolicyRead:
    """The lender's application settings (days before an untouched draft expires)."""
    return _policy_read(await config.policy(session))


@router.put("/applications/policy")
async def put_policy(
    body: PolicyWrite, session: SessionDep, actor: Actor = require("products.manage")
) -> PolicyRead:
    """Change the settings; they apply to clocks started from now on, never retroactively."""
    return _policy_read(await config.set_policy(session, actor, draft_expiry_days=body.draft_expiry_days))


@router.post("/applications", status_code=status.HTTP_201_CREATED)
async def create(
    body: ApplicationCreate, session: SessionDep, actor: Actor = require("applications.write")
) -> ApplicationRead:
    """Open a draft for a customer in your scope; the amount, term and method must fit the product."""
    application = await create_draft(
        session,
        actor,
        body.customer_id,
        body.product_id,
        body.amount,
        body.term_months,
        body.repayment_method,
        purpose=body.purpose,
        values=body.values,
    )
    return await _one(session, application)


@router.get("/applications")
async def list_applications(
    session: SessionDep,
    actor: Actor = require("applications.read"),
    q: Annotated[
        str | None,
        Query(max_length=100, description="the applicant: name prefix, full or masked ID or mobile, USCC"),
    ] = None,
    application_status: Annotated[str | None, Query(alias="status", max_length=20)] = None,
    product: Annotated[str | None, Query(max_length=36, description="product id")] = None,
    channel: Annotated[str | None, Query(max_length=30)] = None,
    owner: Annotated[str | None, Query(max_length=100, description="officer's username")] = None,
    customer: Annotated[str | None, Query(max_length=36, description="customer id")] = None,
    lead: Annotated[str | None, Query(max_length=36, description="lead id")] = None,
    created_from: Timestamp | None = None,
    created_to: Timestamp | None = None,
    sort: Annotated[str, Query(max_length=20, description=f"one of {', '.join(SORT_KEYS)}")] = "-created_at",
    limit: Limit = 50,
    offset: Offset = 0,
) -> ApplicationPage:
    """Applications within the caller's scope, filtered, sorted and paged (no form values)."""
    if sort not in SORT_KEYS:
        raise Invalid(
            "applications.sort_unknown",
            errors=[{"field": "sort", "code": "applications.sort_unknown"}],
            sort=sort,
            known=", ".join(SORT_KEYS),
        )
    owner_id = await session.scalar(select(User.id).where(User.username == owner)) if owner else None
    query = ApplicationQuery(
        q=q,
        status=application_status,
        product_id=product,
        channel=channel,
        owner_id=owner_id if owner is None or owner_id else "-",  # an unknown officer owns nothing
        customer_id=customer,
        lead_id=lead,
        created_from=created_from,
        created_to=created_to,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    rows, total = await search(session, actor, query)
    labels = await _labels(session, rows)
    return ApplicationPage(
        items=[_read(row, labels, values=False) for row in rows],
        total=min(total, COUNT_CAP),
        total_exact=total <= COUNT_CAP,
        limit=limit,
        offset=offset,
    )


@router.get("/applications/{application_id}")
async def get_application(
    application_id: str, session: SessionDep, actor: Actor = require("applications.read")
) -> ApplicationRead:
    """One application with its form values."""
    return await _one(session, await get_visible(session, actor, application_id))


@router.patch("/applications/{application_id}")
async def change(
    application_id: str,
    body: ApplicationUpdate,
    session: SessionDep,
    actor: Actor = require("applications.write"),
) -> ApplicationRead:
    """Change a draft or returned application; send the ``version`` you read."""
    changes = DraftChanges(
        amount=body.amount,
        term_months=body.term_months,
        repayment_method=body.repayment_method,
        purpose=body.purpose,
        values=body.values,
    )
    application = await update_draft(session, actor, application_id, changes, expected_version=body.version)
    return await _one(session, application)


@router.post("/applications/{application_id}/submit")
async def submit_application(
    application_id: str,
    session: SessionDep,
    body: SubmitRequest | None = None,
    actor: Actor = require("applications.write"),
) -> ApplicationRead:
    """Submit (or resubmit): the form is checked, then the gates; a product's flow then takes it into review.

    A resubmitted (returned) application resumes at the stage it was returned from.
    """
    application = await submit(
        session,
        actor,
        application_id,
        gates=APPLICATION_GATES,
        expected_version=body.version if body else None,
    )
    await start_flow(session, application, gates=APPLICATION_GATES)  # a product with a flow: into review
    return await _one(session, application)


@router.post("/applications/{application_id}/transition")
async def move(
    application_id: str,
    body: TransitionRequest,
    session: SessionDep,
    actor: Actor = require("applications.read"),
) -> ApplicationRead:
    """Move to ``to`` as the state table allows; the move's own permission is checked in scope."""
    application = await change_status(
        session,
        actor,
        application_id,
        body.to,
        body.reason,
        body.reason_codes,
        gates=APPLICATION_GATES,
        expected_version=body.version,
    )
    if application.flow_key is not None:  # withdrawn by hand: its open approval tasks close with it
        await cancel_open_tasks(session, application.id, application.status)
    return await _one(session, application)


@router.get("/applications/{application_id}/history")
async def application_history(
    application_id: str, session: SessionDep, actor: Actor = require("applications.read")
) -> list[TransitionRead]:
    """Every status change, oldest first, with who, why and when."""
    application = await get_visible(session, actor, application_id)
    return [
        TransitionRead.model_validate(row, from_attributes=True)
        for row in await history(session, application.id)
    ]


def _gates_read(product_id: str, specs: Sequence[GateSpec]) -> GatesRead:
    return GatesRead(
        product_id=product_id,
        gates=[GateItem.model_validate(spec.as_json()) for spec in specs],
        kinds=APPLICATION_GATES.names(),
        states=list(config.GATED_STATES),
    )


@router.get("/products/{product_id}/gates")
async def get_gates(
    product_id: str, session: SessionDep, actor: Actor = require("products.read")
) -> GatesRead:
    """The product's required-before-state gates, and the kinds and states there are."""
    return _gates_read(product_id, await config.product_gates(session, product_id))


@router.put("/products/{product_id}/gates")
async def put_gates(
    product_id: str, body: GatesWrite, session: SessionDep, actor: Actor = require("products.manage")
) -> GatesRead:
    """Replace the product's gates; they hold from the next move on."""
    specs = [GateSpec(before=item.before, gate=item.gate, params=item.params) for item in body.gates]
    return _gates_read(
        product_id, await config.set_gates(session, actor, product_id, specs, APPLICATION_GATES)
    )
