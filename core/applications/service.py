"""Opening and filling loan applications; every change audited, checked whole before anything is written.

Services never commit: the request or job owns the transaction, so an application, its history
row and its audit entry land together or not at all — a refused request leaves nothing behind.

Status changes are ``core.applications.transitions``; ``transition``, ``submit`` and
``change_status`` are re-exported here so callers have one module to call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor
from core.customers.models import CHANNELS, Customer
from core.customers.repository import visible as visible_customers
from core.db import utcnow
from core.errors import Conflict, Invalid, NotFound
from core.forms.models import FormVersion
from core.products.repository import product_by_id
from core.products.service import offer_errors

from .config import expiry_from
from .gates import APPLICATION_FIELDS
from .models import Application
from .records import audit_view, ensure_active, history_row, save
from .repository import get_visible
from .states import OPEN_FOR_CHANGES, ApplicationStatus
from .transitions import change_status, submit, transition

__all__ = [
    "MAX_VALUES_BYTES",
    "DraftChanges",
    "audit_view",
    "change_status",
    "create_draft",
    "submit",
    "transition",
    "update_draft",
]

MAX_VALUES_BYTES = 64 * 1024
S = ApplicationStatus


def _values_errors(values: Any, form: FormVersion | None) -> list[dict[str, Any]]:
    if not isinstance(values, Mapping):
        return [{"field": "values", "code": "applications.values_not_object"}]
    try:
        size = len(json.dumps(values, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError):
        return [{"field": "values", "code": "applications.values_not_json"}]
    if size > MAX_VALUES_BYTES:
        return [
            {"field": "values", "code": "applications.values_too_large", "params": {"max": MAX_VALUES_BYTES}}
        ]
    errors = [
        {"field": f"values.{name}", "code": "applications.value_is_a_field", "params": {"name": name}}
        for name in APPLICATION_FIELDS
        if name in values
    ]
    if form is None and values:
        errors.append({"field": "values", "code": "applications.no_form"})
    return errors


def _purpose_errors(purpose: str | None) -> list[dict[str, Any]]:
    if purpose is not None and len(purpose) > 200:
        return [{"field": "purpose", "code": "applications.purpose_too_long", "params": {"max": 200}}]
    return []


async def _current_form(session: AsyncSession, product_id: str) -> FormVersion | None:
    return await session.scalar(
        select(FormVersion)
        .where(FormVersion.product_id == product_id)
        .order_by(FormVersion.version.desc())
        .limit(1)
    )


async def create_draft(
    session: AsyncSession,
    actor: Actor,
    customer_id: str,
    product_id: str,
    amount: Decimal,
    term_months: int,
    repayment_method: str | None = None,
    *,
    purpose: str | None = None,
    values: Mapping[str, Any] | None = None,
    lead_id: str | None = None,
    channel: str | None = None,
    channel_partner: str | None = None,
) -> Application:
    """A new draft application of a customer for a product, checked against the product.

    The customer must lie in the caller's ``applications.write`` scope; the application takes its
    owner and branch, and its channel and partner unless ``channel`` is given (a lead's). The
    product's newest form version is kept for good; ``values`` are checked against it only at
    submission (a draft may be incomplete).

    Raises:
        NotFound: ``customers.not_found`` (or outside the caller's scope), ``products.not_found``.
        Conflict: ``products.inactive``; ``applications.customer_merged``.
        Invalid: ``applications.invalid`` with every field error (amount, term, method, values…).
    """
    customer = await session.scalar(
        visible_customers(actor, "applications.write").where(Customer.id == customer_id)
    )
    if customer is None:
        raise NotFound("customers.not_found", id=customer_id)
    if customer.status != "active":
        raise Conflict("applications.customer_merged", into=customer.merged_into_id or "-")
    product = await product_by_id(session, product_id)
    ensure_active(product)
    form = await _current_form(session, product.id)
    errors = offer_errors(product, amount=amount, term_months=term_months, repayment_method=repayment_method)
    errors += _values_errors(values if values is not None else {}, form) + _purpose_errors(purpose)
    if channel is not None and channel not in CHANNELS:
        errors.append(
            {
                "field": "channel",
                "code": "customers.channel_unknown",
                "params": {"known": ", ".join(CHANNELS)},
            }
        )
    if errors:
        raise Invalid("applications.invalid", errors=errors, count=len(errors))
    now = utcnow()
    application = Application(
        customer_id=customer.id,
        product_id=product.id,
        form_version_id=form.id if form else None,
        amount=amount,
        term_months=term_months,
        repayment_method=repayment_method or product.repayment_methods[0],
        purpose=purpose or None,
        values=dict(values or {}),
        channel=channel or customer.channel,
        channel_partner=channel_partner if channel is not None else customer.channel_partner,
        lead_id=lead_id,
        status=S.DRAFT.value,
        owner_id=customer.owner_id,
        branch_id=customer.branch_id,
        created_by=actor.audit_name,
        expires_at=await expiry_from(session, now),
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    await session.flush()
    session.add(history_row(application, actor, None, now))
    await audit.record(
        session,
        actor,
        "applications.create",
        target_type="application",
        target_id=application.id,
        after=audit_view(application),
    )
    return application


@dataclass(frozen=True)
class DraftChanges:
    """What a change of a draft sets; ``None`` leaves a field as it is. ``values`` replace the whole form."""

    amount: Decimal | None = None
    term_months: int | None = None
    repayment_method: str | None = None
    purpose: str | None = None
    values: Mapping[str, Any] | None = None


async def update_draft(
    session: AsyncSession,
    actor: Actor,
    application_id: str,
    changes: DraftChanges,
    *,
    expected_version: int | None = None,
) -> Application:
    """The draft (or returned application) with ``changes``, checked against the product again.

    Raises:
        NotFound: not in the caller's ``applications.write`` scope.
        Conflict: ``applications.not_editable`` once submitted; ``applications.stale`` when it
            changed since ``expected_version``; ``products.inactive``.
        Invalid: ``applications.invalid`` with every field error.
    """
    application = await get_visible(session, actor, application_id, "applications.write", for_update=True)
    if application.status not in OPEN_FOR_CHANGES:
        raise Conflict("applications.not_editable", status=application.status)
    current = application.version
    if expected_version is not None and expected_version != current:
        raise Conflict("applications.stale", expected=expected_version, current=current)
    product = await product_by_id(session, application.product_id)
    ensure_active(product)
    form = (
        await session.get(FormVersion, application.form_version_id) if application.form_version_id else None
    )
    amount = changes.amount if changes.amount is not None else application.amount
    term = changes.term_months if changes.term_months is not None else application.term_months
    method = changes.repayment_method or application.repayment_method
    errors = offer_errors(product, amount=amount, term_months=term, repayment_method=method)
    if changes.values is not None:
        errors += _values_errors(changes.values, form)
    errors += _purpose_errors(changes.purpose)
    if errors:
        raise Invalid("applications.invalid", errors=errors, count=len(errors))
    before = audit_view(application)
    expires = await expiry_from(session, utcnow())  # read before changing: a query autoflushes changes
    application.amount, application.term_months, application.repayment_method = amount, term, method
    if changes.purpose is not None:
        application.purpose = changes.purpose.strip() or None
    if changes.values is not None:
        application.values = dict(changes.values)
    after = audit_view(application)
    if after == before and changes.values is None:
        return application  # nothing changed: no new version, no audit entry
    application.expires_at = expires  # any work on it restarts the clock
    await save(session, application, current)
    changed_before, changed_after = audit.changed_fields(before, after)
    if changes.values is not None:
        changed_after["values_replaced"] = True
    await audit.record(
        session,
        actor,
        "applications.update",
        target_type="application",
        target_id=application.id,
        before=changed_before,
        after=changed_after,
    )
    return application
