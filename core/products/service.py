"""Loan products: define, change (audited, before and after), deactivate, and quote schedules.

Functions take the session and the acting :class:`Actor` and never commit: the request or the
CLI command owns the transaction, so a change and its audit entry land together. Every rule of
``core.products.rules`` is checked on the whole product after each change, so a change that
would make it invalid (a new ``min_amount`` above the stored ``max_amount``) is refused like a
bad creation, with the same field errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.errors import Conflict, Invalid

from .models import Product
from .repository import product_by_code, product_by_id
from .rules import ProductDraft, fee_from_json, product_errors
from .schedule import RepaymentMethod, Schedule, Terms, build_schedule

__all__ = [
    "EDITABLE",
    "create_product",
    "deactivate_product",
    "draft_of",
    "offer_errors",
    "quote",
    "snapshot",
    "update_product",
]

#: Settings a change may touch; ``code`` is the stable identity and cannot be changed.
EDITABLE = frozenset(f.name for f in fields(ProductDraft)) - {"code"}


CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")


def _fee_json(fee: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A fee as stored: its value as a string, cents for a fixed fee, 6 places for a rate."""
    if fee is None:
        return None
    stored = dict(fee)
    value = stored.get("value")
    if isinstance(value, Decimal):
        stored["value"] = str(value.quantize(CENT if stored.get("kind") == "fixed" else RATE_PLACES))
    return stored


def _fee_draft(fee: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if fee is None:
        return None
    return {key: Decimal(str(value)) if key == "value" else value for key, value in fee.items()}


def draft_of(product: Product) -> ProductDraft:
    """The stored product as a draft (to apply a change to and check the result)."""
    return ProductDraft(
        code=product.code,
        name=product.name,
        min_amount=product.min_amount,
        max_amount=product.max_amount,
        terms_months=list(product.terms_months),
        annual_rate=product.annual_rate,
        repayment_methods=list(product.repayment_methods),
        upfront_fee=_fee_draft(product.upfront_fee),
        periodic_fee=_fee_draft(product.periodic_fee),
        grace_periods=product.grace_periods,
        penalty_markup=product.penalty_markup,
        flow_key=product.flow_key,
        active=product.active,
    )


def snapshot(product: Product) -> dict[str, Any]:
    """The product's settings as plain JSON-able data (decimals as strings), for the audit trail."""
    values = asdict(draft_of(product))
    values["upfront_fee"] = _fee_json(values["upfront_fee"])
    values["periodic_fee"] = _fee_json(values["periodic_fee"])
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in values.items()}


def _check(draft: ProductDraft) -> None:
    errors = product_errors(draft)
    if errors:
        raise Invalid("products.invalid", errors=errors)


def _store(product: Product, draft: ProductDraft) -> None:
    product.name = draft.name.strip()
    # Quantized as the columns store them, so the object compares equal to what a later read gives.
    product.min_amount = draft.min_amount.quantize(CENT)
    product.max_amount = draft.max_amount.quantize(CENT)
    product.terms_months = sorted(draft.terms_months)
    product.annual_rate = draft.annual_rate.quantize(RATE_PLACES)
    product.repayment_methods = list(draft.repayment_methods)
    product.upfront_fee = _fee_json(_with_default_collection(draft.upfront_fee))
    product.periodic_fee = _fee_json(draft.periodic_fee)
    product.grace_periods = draft.grace_periods
    product.penalty_markup = draft.penalty_markup.quantize(RATE_PLACES)
    product.flow_key = draft.flow_key
    product.active = draft.active


def _with_default_collection(fee: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return None if fee is None else {"collection": "separate", **fee}


async def create_product(session: AsyncSession, actor: Actor, draft: ProductDraft) -> Product:
    """A new product from ``draft``; ``Invalid`` with every field error, ``Conflict`` on a taken code."""
    _check(draft)
    if await product_by_code(session, draft.code) is not None:
        raise Conflict("products.duplicate_code", product=draft.code)
    product = Product(code=draft.code, version=1)
    _store(product, draft)
    session.add(product)
    await session.flush()
    await audit.record(
        session,
        actor,
        "products.create",
        target_type="product",
        target_id=product.id,
        after=snapshot(product),
    )
    return product


async def update_product(
    session: AsyncSession,
    actor: Actor,
    product_id: str,
    changes: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> Product:
    """Apply ``changes`` (settings of :data:`EDITABLE`) and check the whole product again.

    Args:
        session: the transaction.
        actor: who changes it.
        product_id: which product.
        changes: the new values (only those given change).
        expected_version: the ``version`` the caller read; a different current one is a 409
            (``products.version_conflict``), so concurrent edits do not overwrite each other.
    """
    unknown = sorted(set(changes) - EDITABLE)
    if unknown:
        raise Invalid(
            "products.invalid",
            errors=[{"field": name, "code": "products.not_editable", "params": {}} for name in unknown],
        )
    product = await product_by_id(session, product_id, for_update=True)
    if expected_version is not None and expected_version != product.version:
        raise Conflict("products.version_conflict", expected=expected_version, current=product.version)
    before = snapshot(product)
    draft = replace(draft_of(product), **dict(changes))
    _check(draft)
    _store(product, draft)
    after = snapshot(product)
    if after == before:
        return product  # nothing changed: no new version, no audit entry
    product.version += 1
    await session.flush()
    old, new = audit.changed_fields(before, after)
    await audit.record(
        session, actor, "products.update", target_type="product", target_id=product.id, before=old, after=new
    )
    return product


async def deactivate_product(session: AsyncSession, actor: Actor, product_id: str) -> Product:
    """Stop offering a product: it stays readable (and so do its applications), quotes are refused."""
    return await update_product(session, actor, product_id, {"active": False})


def _cents(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


def offer_errors(
    product: Product, *, amount: Decimal, term_months: int, repayment_method: str | None
) -> list[dict[str, Any]]:
    """Field errors for an amount, term and method ``product`` does not offer (empty when it does).

    The one check of "does the product offer this", shared by quotes and applications, so a
    quote that passes is an application that passes. ``repayment_method`` ``None`` is the
    product's first method.
    """
    errors = []
    if not amount.is_finite() or not _cents(amount) or not product.min_amount <= amount <= product.max_amount:
        errors.append(
            {
                "field": "amount",
                "code": "products.amount_out_of_range",
                "params": {"min": str(product.min_amount), "max": str(product.max_amount)},
            }
        )
    if term_months not in product.terms_months:
        offered = ", ".join(str(t) for t in product.terms_months)
        errors.append(
            {"field": "term_months", "code": "products.term_not_offered", "params": {"offered": offered}}
        )
    method = repayment_method or product.repayment_methods[0]
    if method not in product.repayment_methods:
        offered = ", ".join(product.repayment_methods)
        errors.append(
            {
                "field": "repayment_method",
                "code": "products.method_not_offered",
                "params": {"offered": offered},
            }
        )
    return errors


def quote(
    product: Product,
    *,
    amount: Decimal,
    term_months: int,
    repayment_method: str | None,
    start_date: date,
) -> Schedule:
    """The schedule ``product`` gives for ``amount`` over ``term_months`` (pure: nothing stored).

    ``repayment_method`` defaults to the product's first. Refusals name the field:
    ``products.amount_out_of_range``, ``products.term_not_offered``, ``products.method_not_offered``
    (422), and ``products.inactive`` (409) for a deactivated product.
    """
    if not product.active:
        raise Conflict("products.inactive", product=product.code)
    errors = offer_errors(product, amount=amount, term_months=term_months, repayment_method=repayment_method)
    if errors:
        raise Invalid("products.quote_invalid", errors=errors)
    method = repayment_method or product.repayment_methods[0]
    return build_schedule(
        Terms(
            amount=amount,
            term_months=term_months,
            annual_rate=product.annual_rate,
            method=RepaymentMethod(method),
            start_date=start_date,
            grace_periods=product.grace_periods,
            upfront_fee=fee_from_json(product.upfront_fee),
            periodic_fee=fee_from_json(product.periodic_fee),
        )
    )
