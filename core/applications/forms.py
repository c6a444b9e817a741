"""Checking an application before it is submitted: the product's terms, then the kept form version.

The form an application is checked against is the version it was created with, never the
product's newest: a form published while the applicant was filling theirs in does not change
the rules under them. The form sees the application's own ``amount``, ``term_months``,
``repayment_method`` and ``purpose`` under those names where its schema declares them, so a rule
like ``form.amount <= product.max_amount`` reads the amount the application asks for (they are
set on the application, never in ``values``). Rules see ``applicant.age``, ``applicant.birth_date``
and ``applicant.kind`` from the customer, and ``today``, the lender's business date.

A problem in the values names its field as ``values.<path>`` (``values.income.monthly``); one in
an application field names it plainly (``amount``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import business_date
from core.customers.identity import age_on
from core.customers.models import Customer
from core.errors import Invalid
from core.forms.models import FormVersion
from core.forms.validation import RuleContext, validate_submission
from core.products.models import Product
from core.products.service import offer_errors

from .gates import APPLICATION_FIELDS
from .models import Application

__all__ = ["applicant_facts", "check_form", "form_input"]


def _json_number(value: Decimal) -> int | float:
    """A Decimal as JSON would carry it, for the JSON Schema validator (rules see it as a Decimal)."""
    return int(value) if value == value.to_integral_value() else float(str(value))


def form_input(application: Application, json_schema: dict[str, Any]) -> dict[str, Any]:
    """The values the form checks: ``values`` plus the application fields its schema declares."""
    declared = json_schema.get("properties")
    merged = dict(application.values or {})
    for name in APPLICATION_FIELDS:
        value = getattr(application, name)
        if isinstance(declared, dict) and name in declared and value is not None:
            merged[name] = _json_number(value) if isinstance(value, Decimal) else value
    return merged


def applicant_facts(customer: Customer, today: Any) -> dict[str, Any]:
    """What rules know of the applicant: kind, and a person's birth date and age on ``today``."""
    facts: dict[str, Any] = {"kind": customer.kind}
    if customer.birth_date is not None:
        facts["birth_date"] = customer.birth_date
        facts["age"] = age_on(customer.birth_date, today)
    return facts


def _renamed(error: dict[str, Any]) -> dict[str, Any]:
    field = str(error.get("field", ""))
    if field.split(".")[0] not in APPLICATION_FIELDS:
        field = f"values.{field}" if field else "values"
    return {**error, "field": field}


async def check_form(session: AsyncSession, application: Application, product: Product) -> None:
    """Refuse (422) an application whose terms the product no longer offers or whose form fails.

    Raises:
        Invalid: ``applications.invalid`` for terms (the product changed since the draft), or
            ``forms.submission_invalid`` with one entry per schema or rule problem.
    """
    errors = offer_errors(
        product,
        amount=application.amount,
        term_months=application.term_months,
        repayment_method=application.repayment_method,
    )
    if errors:
        raise Invalid("applications.invalid", errors=errors, count=len(errors))
    if application.form_version_id is None:
        return  # the product had no form when the application was opened: there is nothing to fill
    form = await session.get_one(FormVersion, application.form_version_id)
    customer = await session.get_one(Customer, application.customer_id)
    today = business_date()
    context = RuleContext.for_product(product, applicant=applicant_facts(customer, today), today=today)
    try:
        validate_submission(form, form_input(application, form.json_schema), context=context)
    except Invalid as problem:
        raise Invalid(problem.code, errors=[_renamed(e) for e in problem.errors], **problem.params) from None
