"""Loan products over HTTP: define and change them, quote schedules, publish application forms.

Reads and quotes need ``products.read``; changes need ``products.manage``. Every change goes
through ``core.products.service`` / ``core.forms.service`` and is audited there.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status

from core.access import Actor
from core.db import utcnow
from core.errors import Invalid
from core.flows.versions import ensure_published
from core.forms.models import FormVersion
from core.forms.service import form_version, publish_form
from core.products.models import Product
from core.products.repository import ProductQuery, list_products, product_by_id
from core.products.rules import ProductDraft
from core.products.schedule import Schedule
from core.products.service import create_product, quote, update_product
from schemas.api.products import (
    FormPublished,
    FormRead,
    FormWrite,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    QuoteRead,
    QuoteRequest,
)

from ...deps import SessionDep
from ..paging import Limit, Offset
from ..security import require

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["products"])

SortKey = Literal[
    "code",
    "-code",
    "name",
    "-name",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "annual_rate",
    "-annual_rate",
    "min_amount",
    "-min_amount",
    "max_amount",
    "-max_amount",
]
CONVENTIONS = (
    "monthly periods from start_date (month-end safe); periodic rate = annual_rate / 12 (30/360); "
    "every amount rounded ROUND_HALF_UP to 0.01; the last period absorbs the principal remainder"
)
#: Settings that cannot be null in a change (``null`` is meaningful only for fees and the flow key).
NOT_NULL = frozenset(
    {
        "name",
        "min_amount",
        "max_amount",
        "terms_months",
        "annual_rate",
        "repayment_methods",
        "grace_periods",
        "penalty_markup",
        "active",
    }
)


def _read(product: Product) -> ProductRead:
    return ProductRead.model_validate(
        {
            **{column: getattr(product, column) for column in ProductRead.model_fields},
            "terms_months": list(product.terms_months),
            "repayment_methods": list(product.repayment_methods),
        }
    )


@router.get("/products")
async def list_all(
    session: SessionDep,
    actor: Actor = require("products.read"),
    active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the code or name")] = None,
    sort: SortKey = "code",
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[ProductRead]:
    """Products, filtered by ``active`` and a search in code and name, sorted (``-`` for descending)."""
    query = ProductQuery(active=active, search=q, sort=sort, limit=limit, offset=offset)
    return [_read(product) for product in await list_products(session, query)]


@router.post("/products", status_code=status.HTTP_201_CREATED)
async def create(
    body: ProductCreate, session: SessionDep, actor: Actor = require("products.manage")
) -> ProductRead:
    """A new product; every rule it breaks comes back as a field error (409 for a taken code)."""
    values = body.model_dump()
    if values.get("flow_key"):
        await ensure_published(session, values["flow_key"])  # a typo'd flow is caught here, not at submission
    product = await create_product(session, actor, ProductDraft(**values))
    return _read(product)


@router.get("/products/{product_id}")
async def get(product_id: str, session: SessionDep, actor: Actor = require("products.read")) -> ProductRead:
    """One product."""
    return _read(await product_by_id(session, product_id))


@router.patch("/products/{product_id}")
async def change(
    product_id: str, body: ProductUpdate, session: SessionDep, actor: Actor = require("products.manage")
) -> ProductRead:
    """Change some settings (``active: false`` deactivates); the product is checked whole again."""
    given = body.model_dump(include=body.model_fields_set)
    expected = given.pop("version", None)
    nulls = sorted(name for name in NOT_NULL if name in given and given[name] is None)
    if nulls:
        raise Invalid(
            "products.invalid",
            errors=[{"field": name, "code": "products.required_value", "params": {}} for name in nulls],
        )
    if given.get("flow_key"):
        await ensure_published(session, given["flow_key"])
    product = await update_product(session, actor, product_id, given, expected_version=expected)
    return _read(product)


def _quote_read(product: Product, schedule: Schedule) -> QuoteRead:
    terms = schedule.terms
    return QuoteRead.model_validate(
        {
            "product_id": product.id,
            "product_code": product.code,
            "amount": terms.amount,
            "term_months": terms.term_months,
            "repayment_method": terms.method.value,
            "annual_rate": terms.annual_rate,
            "start_date": terms.start_date,
            "rows": [asdict(row) for row in schedule.rows],
            "total_principal": schedule.total_principal,
            "total_interest": schedule.total_interest,
            "upfront_fee": schedule.upfront_fee,
            "total_fees": schedule.total_fees,
            "total_repayment": schedule.total_repayment,
            "apr": schedule.apr,
            "effective_annual_rate": schedule.effective_annual_rate,
            "conventions": CONVENTIONS,
        }
    )


@router.post("/products/{product_id}/quote")
async def quote_schedule(
    product_id: str, body: QuoteRequest, session: SessionDep, actor: Actor = require("products.read")
) -> QuoteRead:
    """The full schedule, totals and APR for an amount and term (nothing is stored)."""
    product = await product_by_id(session, product_id)
    schedule = quote(
        product,
        amount=body.amount,
        term_months=body.term_months,
        repayment_method=body.repayment_method,
        start_date=body.start_date or utcnow().date(),
    )
    return _quote_read(product, schedule)


def _form_read(version: FormVersion) -> FormRead:
    return FormRead.model_validate(
        {
            "product_id": version.product_id,
            "version": version.version,
            "json_schema": version.json_schema,
            "rules": version.rules,
            "created_at": version.created_at,
            "created_by": version.created_by,
        }
    )


@router.get("/products/{product_id}/form")
async def get_form(
    product_id: str,
    session: SessionDep,
    actor: Actor = require("products.read"),
    version: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="a version; the newest if absent")
    ] = None,
) -> FormRead:
    """The product's application form: the newest version, or ``?version=N``."""
    return _form_read(await form_version(session, product_id, version))


@router.put("/products/{product_id}/form", status_code=status.HTTP_201_CREATED)
async def publish(
    product_id: str, body: FormWrite, session: SessionDep, actor: Actor = require("products.manage")
) -> FormPublished:
    """Publish a new form version (earlier versions stay as they were); answers its number."""
    rules: Any = body.rules
    version = await publish_form(session, actor, product_id, json_schema=body.json_schema, rules=rules)
    return FormPublished(product_id=version.product_id, version=version.version)
