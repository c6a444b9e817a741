"""What a flow's conditions see: the names they may use and their values for one application.

Conditions are CEL (``core.expressions``) over these names:

``amount``
    the amount applied for (a number).
``application``
    ``amount``, ``term_months``, ``repayment_method``, ``channel``, ``channel_partner``,
    ``purpose``, ``values`` (the filled form), ``resubmissions`` (how often it came back).
``product``
    ``code``, ``name``, ``min_amount``, ``max_amount``, ``annual_rate``, ``terms_months``.
``customer``
    ``kind`` (person/enterprise), ``age`` (persons, on the business date), ``channel``,
    ``tags``, ``segments`` (the codes of the segments it belongs to), ``related`` (how many
    customers its graph names).
``exposure``
    cumulative exposure, existing + new: ``borrower`` and ``group`` (the borrower with the
    customers its graph ties to it by control or shared debt: spouse, co-borrower, legal
    representative, shareholder, actual controller — both directions, one step), and the
    parts ``borrower_existing``, ``group_existing``, ``new``. Existing exposure is the amount
    of approved, contracted and disbursed applications until loan accounts exist.
``signals``
    the named risk signals of the application (``application_signals``: a score, a grade, a
    litigation hit …), only those the flow declares in ``signals:``. A signal the application
    lacks is reported as missing, never guessed.
``checks``
    conditions plugins registered (``register_flow_extensions``), by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.applications.models import Application
from core.clock import business_date
from core.customers.models import Customer, CustomerRelation
from core.products.models import Product

__all__ = [
    "CONDITION_VARIABLES",
    "EXPOSURE_STATUSES",
    "GROUP_RELATIONS",
    "KNOWN_MEMBERS",
    "Exposure",
    "FlowFacts",
    "exposure_of",
    "facts_for",
    "typed_facts",
]

CONDITION_VARIABLES: dict[str, Any] = {
    "amount": Decimal,
    "application": dict,
    "product": dict,
    "customer": dict,
    "exposure": dict,
    "signals": dict,
    "checks": dict,
}

#: The members a condition may name under each map (``signals`` and ``checks`` come from the flow
#: and the plugins).
KNOWN_MEMBERS: dict[str, frozenset[str]] = {
    "application": frozenset(
        {
            "amount",
            "term_months",
            "repayment_method",
            "channel",
            "channel_partner",
            "purpose",
            "values",
            "resubmissions",
        }
    ),
    "product": frozenset({"code", "name", "min_amount", "max_amount", "annual_rate", "terms_months"}),
    "customer": frozenset({"kind", "age", "channel", "tags", "segments", "related"}),
    "exposure": frozenset({"borrower", "group", "borrower_existing", "group_existing", "new"}),
}

EXPOSURE_STATUSES = ("approved", "contracted", "disbursed")
GROUP_RELATIONS = ("spouse", "co_borrower", "legal_representative", "shareholder", "actual_controller")


@dataclass(frozen=True)
class Exposure:
    """Cumulative exposure of a borrower and its group, existing + this application."""

    borrower_existing: Decimal
    group_existing: Decimal
    new: Decimal

    @property
    def borrower(self) -> Decimal:
        """The borrower's exposure with this application."""
        return self.borrower_existing + self.new

    @property
    def group(self) -> Decimal:
        """The group's exposure with this application."""
        return self.group_existing + self.new

    def measure(self, name: str) -> Decimal:
        """``borrower`` or ``group``: what an authority limit is measured on."""
        return self.group if name == "group" else self.borrower

    def values(self) -> dict[str, Decimal]:
        """The ``exposure`` map conditions read."""
        return {
            "borrower": self.borrower,
            "group": self.group,
            "borrower_existing": self.borrower_existing,
            "group_existing": self.group_existing,
            "new": self.new,
        }

    def as_json(self) -> dict[str, str]:
        """Decimal strings, for answers and audit entries."""
        return {name: str(value) for name, value in self.values().items()}


@dataclass
class FlowFacts:
    """The values of one application's conditions, and the signals it lacks."""

    values: dict[str, Any]
    exposure: Exposure
    signals: dict[str, Any] = field(default_factory=dict)


async def group_of(session: AsyncSession, customer_id: str) -> set[str]:
    """The borrower and the customers tied to it by ``GROUP_RELATIONS`` (either direction, one step)."""
    rows = await session.execute(
        select(CustomerRelation.customer_id, CustomerRelation.related_id).where(
            CustomerRelation.kind.in_(GROUP_RELATIONS),
            or_(CustomerRelation.customer_id == customer_id, CustomerRelation.related_id == customer_id),
        )
    )
    return {customer_id} | {a for a, b in rows} | {b for a, b in rows}


async def related_customers(session: AsyncSession, customer_id: str) -> set[str]:
    """Every customer the graph ties to ``customer_id`` by any relation, either direction, one step."""
    rows = await session.execute(
        select(CustomerRelation.customer_id, CustomerRelation.related_id).where(
            or_(CustomerRelation.customer_id == customer_id, CustomerRelation.related_id == customer_id)
        )
    )
    return ({a for a, b in rows} | {b for a, b in rows}) - {customer_id}


async def exposure_of(session: AsyncSession, application: Application) -> Exposure:
    """The borrower's and the group's exposure before this application, and this application's amount."""
    group = await group_of(session, application.customer_id)

    async def existing(customers: Iterable[str]) -> Decimal:
        total = await session.scalar(
            select(func.coalesce(func.sum(Application.amount), 0)).where(
                Application.customer_id.in_(list(customers)),
                Application.status.in_(EXPOSURE_STATUSES),
                Application.id != application.id,
            )
        )
        return Decimal(str(total or 0)).quantize(Decimal("0.01"))

    borrower = await existing([application.customer_id])
    whole = await existing(group) if len(group) > 1 else borrower
    return Exposure(borrower_existing=borrower, group_existing=whole, new=application.amount)


def _age(customer: Customer) -> int | None:
    if customer.birth_date is None:
        return None
    today = business_date()
    born = customer.birth_date
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


async def facts_for(
    session: AsyncSession,
    application: Application,
    signals: dict[str, Any],
    segments: list[str],
    submissions: int,
) -> FlowFacts:
    """Every value a condition may read for ``application`` (``signals`` as stored, all of them)."""
    product = await session.get(Product, application.product_id)
    customer = await session.get(Customer, application.customer_id)
    assert product is not None and customer is not None  # foreign keys
    exposure = await exposure_of(session, application)
    resubmissions = submissions
    related = await related_customers(session, customer.id)
    values: dict[str, Any] = {
        "amount": application.amount,
        "application": {
            "amount": application.amount,
            "term_months": application.term_months,
            "repayment_method": application.repayment_method,
            "channel": application.channel,
            "channel_partner": application.channel_partner or "",
            "purpose": application.purpose or "",
            "values": dict(application.values or {}),
            "resubmissions": max(int(resubmissions or 0) - 1, 0),
        },
        "product": {
            "code": product.code,
            "name": product.name,
            "min_amount": product.min_amount,
            "max_amount": product.max_amount,
            "annual_rate": product.annual_rate,
            "terms_months": list(product.terms_months),
        },
        "customer": {
            "kind": customer.kind,
            "channel": customer.channel,
            "tags": list(customer.tags or []),
            "segments": segments,
            "related": len(related),
            **({"age": age} if (age := _age(customer)) is not None else {}),
        },
        "exposure": exposure.values(),
    }
    return FlowFacts(values=values, exposure=exposure, signals=dict(signals))


def typed_facts(values: dict[str, Any]) -> FlowFacts:
    """Facts typed in for a dry run (no application): exposure defaults to the amount alone."""
    amount = Decimal(str(values.get("amount", "0")))
    raw_exposure = values.get("exposure")
    given: dict[str, Any] = raw_exposure if isinstance(raw_exposure, dict) else {}
    borrower_existing = Decimal(str(given.get("borrower_existing", "0")))
    group_existing = Decimal(str(given.get("group_existing", borrower_existing)))
    exposure = Exposure(borrower_existing=borrower_existing, group_existing=group_existing, new=amount)
    application = dict(values.get("application") or {})
    application.setdefault("amount", amount)
    facts = {
        "amount": amount,
        "application": application,
        "product": dict(values.get("product") or {}),
        "customer": dict(values.get("customer") or {}),
        "exposure": exposure.values(),
    }
    raw_signals = values.get("signals")
    signals: dict[str, Any] = raw_signals if isinstance(raw_signals, dict) else {}
    return FlowFacts(values=facts, exposure=exposure, signals=dict(signals))
