"""Customers over HTTP: register, search, read, change, relate, merge, and the 360° view.

Reads are masked unless the caller reveals a field with a stated purpose. Every query is scoped in
SQL by ``core.customers``; a customer outside the caller's scope answers 404 exactly like one that
does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.access import Actor, Branch, User
from core.access.reveal import reveal_fields
from core.clock import business_date
from core.customers import graph, service
from core.customers.identity import age_on
from core.customers.models import Customer
from core.customers.repository import COUNT_CAP, SORTS, CustomerQuery, get_visible, search
from core.customers.view360 import relationships_section
from core.errors import Invalid
from schemas.api.common import Timestamp
from schemas.api.customers import (
    CustomerCreate,
    CustomerCreated,
    CustomerPage,
    CustomerRead,
    CustomerUpdate,
    MergeRequest,
    RelationCreate,
    RelationRead,
    View360Read,
)

from ...crm import CUSTOMER_360
from ...deps import SessionDep
from ..paging import Limit, Offset
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api/customers", tags=["customers"])

REVEALABLE = ("id_number", "mobile", "bank_card", "address")
SORT_KEYS = [*SORTS, *(f"-{key}" for key in SORTS)]


async def _labels(session: AsyncSession, rows: Sequence[Customer]) -> tuple[dict[str, str], dict[str, str]]:
    owners = {r.owner_id for r in rows}
    branches = {r.branch_id for r in rows}
    users = dict((await session.execute(select(User.id, User.username).where(User.id.in_(owners)))).all())
    codes = dict((await session.execute(select(Branch.id, Branch.code).where(Branch.id.in_(branches)))).all())
    return users, codes


def _read(
    customer: Customer, users: dict[str, str], codes: dict[str, str], revealed: frozenset[str] = frozenset()
) -> dict[str, object]:
    def shown(name: str) -> str | None:
        value = getattr(customer, name)
        if value is None:
            return None
        return str(value.reveal() if name in revealed else value.masked)

    today = business_date()
    return {
        "id": customer.id,
        "kind": customer.kind,
        "name": customer.name,
        **{name: shown(name) for name in REVEALABLE},
        "uscc": customer.uscc,
        "age": age_on(customer.birth_date, today) if customer.birth_date else None,
        "gender": customer.gender,
        "birth_date": customer.birth_date if "id_number" in revealed else None,
        "channel": customer.channel,
        "channel_partner": customer.channel_partner,
        "owner": users.get(customer.owner_id),
        "branch": codes.get(customer.branch_id),
        "status": customer.status,
        "merged_into": customer.merged_into_id,
        "tags": list(customer.tags or []),
        "profile": dict(customer.profile or {}),
        "version": customer.version,
        "revealed": sorted(revealed),
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
    }


async def _one(
    session: AsyncSession, customer: Customer, revealed: frozenset[str] = frozenset()
) -> CustomerRead:
    users, codes = await _labels(session, [customer])
    return CustomerRead.model_validate(_read(customer, users, codes, revealed))


async def customer_reads(session: AsyncSession, rows: Sequence[Customer]) -> list[CustomerRead]:
    """Customers as lists answer them: masked, with their officers' and branches' names."""
    users, codes = await _labels(session, rows)
    return [CustomerRead.model_validate(_read(row, users, codes)) for row in rows]


def _fields(body: CustomerCreate | CustomerUpdate) -> service.CustomerFields:
    data = body.model_dump(exclude_unset=True, exclude={"version", "unset"})
    unset = set(getattr(body, "unset", []) or [])
    return service.CustomerFields(**data, unset=unset)


@router.get("")
async def list_customers(
    session: SessionDep,
    actor: Actor = require("customers.read"),
    q: Annotated[
        str | None,
        Query(max_length=100, description="name fragment, or a full or masked ID number, mobile, or USCC"),
    ] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    customer_status: Annotated[str | None, Query(alias="status", max_length=20)] = "active",
    channel: Annotated[str | None, Query(max_length=30)] = None,
    owner: Annotated[str | None, Query(max_length=100, description="officer's username")] = None,
    branch: Annotated[str | None, Query(max_length=50, description="branch code")] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    created_from: Timestamp | None = None,
    created_to: Timestamp | None = None,
    sort: Annotated[str, Query(max_length=20, description=f"one of {', '.join(SORT_KEYS)}")] = "-created_at",
    limit: Limit = 50,
    offset: Offset = 0,
) -> CustomerPage:
    """Customers within the caller's scope, filtered, sorted and paged."""
    if sort not in SORT_KEYS:
        raise Invalid(
            "customers.sort_unknown",
            errors=[{"field": "sort", "code": "customers.sort_unknown"}],
            sort=sort,
            known=", ".join(SORT_KEYS),
        )
    owner_id = await session.scalar(select(User.id).where(User.username == owner)) if owner else None
    branch_id = await session.scalar(select(Branch.id).where(Branch.code == branch)) if branch else None
    query = CustomerQuery(
        q=q,
        kind=kind,
        status=customer_status or None,
        channel=channel,
        owner_id=owner_id if owner is None or owner_id else "-",
        branch_id=branch_id if branch is None or branch_id else "-",
        tag=tag,
        created_from=created_from,
        created_to=created_to,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    rows, total = await search(session, actor, query)
    items = await customer_reads(session, rows)
    return CustomerPage(
        items=items, total=min(total, COUNT_CAP), total_exact=total <= COUNT_CAP, limit=limit, offset=offset
    )


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_customer(
    body: CustomerCreate, session: SessionDep, actor: Actor = require("customers.write")
) -> CustomerCreated:
    """Register a customer; 409 if an active customer has the same ID number or USCC."""
    customer = await service.register(session, actor, _fields(body), today=business_date())
    duplicates = await service.possible_duplicates(session, actor, customer)
    read = await _one(session, customer)
    return CustomerCreated(**read.model_dump(), possible_duplicates=duplicates)


@router.get("/{customer_id}")
async def get_customer(
    customer_id: str,
    session: SessionDep,
    actor: Actor = require("customers.read"),
    reveal: Annotated[
        list[str] | None, Query(max_length=4, description=f"fields to show in clear: {', '.join(REVEALABLE)}")
    ] = None,
    purpose: Annotated[str | None, Query(max_length=500, description="why, when revealing")] = None,
) -> CustomerRead:
    """One customer, masked; ``reveal`` shows fields in clear with a stated purpose, audited."""
    customer = await get_visible(session, actor, customer_id)
    fields = await reveal_fields(
        session,
        actor,
        reveal,
        purpose,
        revealable=REVEALABLE,
        unknown_code="customers.reveal_unknown",
        target_type="customer",
        target_id=customer.id,
    )
    return await _one(session, customer, fields)


@router.patch("/{customer_id}")
async def update_customer(
    customer_id: str, body: CustomerUpdate, session: SessionDep, actor: Actor = require("customers.write")
) -> CustomerRead:
    """Change fields; send the ``version`` you read to refuse a change over someone else's."""
    customer = await service.update(
        session, actor, customer_id, _fields(body), today=business_date(), expected_version=body.version
    )
    return await _one(session, customer)


@router.get("/{customer_id}/duplicates")
async def customer_duplicates(
    customer_id: str, session: SessionDep, actor: Actor = require("customers.read")
) -> list[str]:
    """Ids of other customers you can see who share this one's mobile or bank card."""
    customer = await get_visible(session, actor, customer_id)
    return await service.possible_duplicates(session, actor, customer)


@router.post("/{customer_id}/relations", status_code=status.HTTP_201_CREATED)
async def add_relation(
    customer_id: str, body: RelationCreate, session: SessionDep, actor: Actor = require("customers.write")
) -> list[RelationRead]:
    """Record ``<customer>'s <kind> is <related_id>``; answers the customer's relations."""
    share = Decimal(body.share_percent) if body.share_percent is not None else None
    await graph.relate(
        session, actor, customer_id, body.related_id, body.kind, share_percent=share, note=body.note
    )
    customer = await get_visible(session, actor, customer_id)
    return [RelationRead.model_validate(r) for r in await relationships_section(session, actor, customer)]


@router.delete("/{customer_id}/relations/{related_id}/{kind}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_relation(
    customer_id: str,
    related_id: str,
    kind: str,
    session: SessionDep,
    actor: Actor = require("customers.write"),
) -> Response:
    """Remove one relation (both directions of a symmetric one)."""
    await graph.unrelate(session, actor, customer_id, related_id, kind)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{customer_id}/merge")
async def merge_customer(
    customer_id: str, body: MergeRequest, session: SessionDep, actor: Actor = require("customers.merge")
) -> CustomerRead:
    """Fold this customer into ``into``: its records move there, it stays as a merged trail."""
    survivor = await graph.merge(session, actor, customer_id, body.into)
    return await _one(session, survivor)


@router.get("/{customer_id}/360")
async def customer_360(
    customer_id: str, session: SessionDep, actor: Actor = require("customers.read")
) -> View360Read:
    """Everything about the customer the caller may see, in one answer."""
    customer = await get_visible(session, actor, customer_id)
    sections = await CUSTOMER_360.build(session, actor, customer)
    return View360Read.model_validate({"customer": await _one(session, customer), **sections})
