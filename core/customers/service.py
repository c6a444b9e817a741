"""Registering, changing and relating customers; every change audited with masked values.

Checks run over all fields before anything is written, so an officer sees every problem of a form
at once, and a refused request leaves nothing behind. Placement (owner and branch) must lie within
the caller's ``customers.write`` scope: an officer registers customers for themselves, a branch
manager for anyone in their subtree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.access import Actor, Scope, User
from core.access.models import Branch
from core.access.repository import user_by_name
from core.errors import Conflict, Forbidden, Invalid
from core.pii import PII, blind_index

from .identity import FieldProblem, check_bank_card, check_id_number, check_mobile, check_uscc
from .models import CHANNELS, Customer, CustomerKind
from .repository import get_visible, hint_index, visible

__all__ = ["CustomerFields", "audit_view", "possible_duplicates", "register", "update"]

MAX_TAGS = 30


@dataclass
class CustomerFields:
    """What a caller may set on a customer; ``None`` leaves a field as it is (or empty, on create)."""

    kind: str | None = None
    name: str | None = None
    id_number: str | None = None
    uscc: str | None = None
    mobile: str | None = None
    bank_card: str | None = None
    address: str | None = None
    channel: str | None = None
    channel_partner: str | None = None
    tags: list[str] | None = None
    profile: dict[str, Any] | None = None
    owner: str | None = None  # username of the officer the customer belongs to
    unset: set[str] = field(default_factory=set)  # optional fields to clear


@dataclass
class _Checked:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def run(self, name: str, check: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return check(*args, **kwargs)
        except FieldProblem as problem:
            self.errors.append(problem.as_error(name))
            return None


def _check(fields: CustomerFields, kind: str, *, today: date, creating: bool) -> _Checked:
    checked = _Checked()
    if creating and kind not in {k.value for k in CustomerKind}:
        checked.errors.append({"field": "kind", "code": "customers.kind_unknown", "params": {"kind": kind}})
        return checked
    if fields.name is not None or creating:
        name = " ".join((fields.name or "").split())
        if not name or len(name) > 200:
            checked.errors.append({"field": "name", "code": "customers.name_required"})
        checked.values["name"] = name
    person = kind == CustomerKind.PERSON
    if person:
        if fields.uscc is not None:
            checked.errors.append({"field": "uscc", "code": "customers.uscc_for_enterprises"})
        if fields.id_number is not None:
            found = checked.run("id_number", check_id_number, fields.id_number, today=today)
            if found is not None:
                checked.values.update(
                    id_number=found.number, birth_date=found.birth_date, gender=found.gender
                )
        elif creating:
            checked.errors.append({"field": "id_number", "code": "customers.id_number_required"})
    else:
        if fields.id_number is not None:
            checked.errors.append({"field": "id_number", "code": "customers.id_number_for_persons"})
        if fields.uscc is not None:
            checked.values["uscc"] = checked.run("uscc", check_uscc, fields.uscc)
        elif creating:
            checked.errors.append({"field": "uscc", "code": "customers.uscc_required"})
    if fields.mobile is not None:
        checked.values["mobile"] = checked.run("mobile", check_mobile, fields.mobile)
    elif creating and person:
        checked.errors.append({"field": "mobile", "code": "customers.mobile_required"})
    if fields.bank_card is not None:
        checked.values["bank_card"] = checked.run("bank_card", check_bank_card, fields.bank_card)
    if fields.address is not None:
        address = " ".join(fields.address.split())
        if len(address) > 300:
            checked.errors.append({"field": "address", "code": "customers.address_too_long"})
        checked.values["address"] = address or None
    if fields.channel is not None:
        if fields.channel not in CHANNELS:
            checked.errors.append(
                {
                    "field": "channel",
                    "code": "customers.channel_unknown",
                    "params": {"known": ", ".join(CHANNELS)},
                }
            )
        checked.values["channel"] = fields.channel
    if fields.channel_partner is not None:
        checked.values["channel_partner"] = fields.channel_partner.strip() or None
    if fields.tags is not None:
        tags = sorted({t.strip() for t in fields.tags if t.strip()})
        if len(tags) > MAX_TAGS or any(len(t) > 50 for t in tags):
            checked.errors.append(
                {"field": "tags", "code": "customers.tags_invalid", "params": {"max": MAX_TAGS}}
            )
        checked.values["tags"] = tags
    if fields.profile is not None:
        checked.values["profile"] = fields.profile
    for name in fields.unset:
        if name not in {"mobile", "bank_card", "address", "channel_partner"} or (name == "mobile" and person):
            checked.errors.append({"field": name, "code": "customers.cannot_unset"})
        else:
            checked.values[name] = None
    return checked


def _seal_values(values: dict[str, Any]) -> dict[str, Any]:
    """Column values for the checked clear values: sealed PII plus its blind and hint indexes."""
    columns = dict(values)
    for field_class in ("id_number", "mobile", "bank_card"):
        if field_class not in values:
            continue
        clear = values[field_class]
        columns[field_class] = PII(field_class, clear) if clear else None
        columns[f"{field_class}_index"] = blind_index(field_class, clear) if clear else None
        if field_class == "id_number":
            columns["id_hint_index"] = hint_index(field_class, clear) if clear else None
        if field_class == "mobile":
            columns["mobile_hint_index"] = hint_index(field_class, clear) if clear else None
    if "address" in values:
        columns["address"] = PII("address", values["address"]) if values["address"] else None
    return columns


def audit_view(customer: Customer) -> dict[str, Any]:
    """The fields an audit entry keeps: personal data only in masked form."""
    return {
        "kind": customer.kind,
        "name": customer.name,
        "id_number": str(customer.id_number) if customer.id_number else None,
        "uscc": customer.uscc,
        "mobile": str(customer.mobile) if customer.mobile else None,
        "bank_card": str(customer.bank_card) if customer.bank_card else None,
        "address": str(customer.address) if customer.address else None,
        "channel": customer.channel,
        "channel_partner": customer.channel_partner,
        "owner_id": customer.owner_id,
        "branch_id": customer.branch_id,
        "status": customer.status,
        "tags": list(customer.tags or []),
    }


async def _placement(session: AsyncSession, actor: Actor, owner: str | None) -> tuple[str, str]:
    """The owner and branch a new customer gets, refused when outside the caller's write scope."""
    if owner is None:
        if actor.id is None or actor.branch_id is None or actor.kind.value != "user":
            raise Invalid(
                "customers.owner_required", errors=[{"field": "owner", "code": "customers.owner_required"}]
            )
        return actor.id, actor.branch_id
    user: User = await user_by_name(session, owner)
    branch = await session.get(Branch, user.branch_id) if user.branch_id else None
    scope = actor.scope_for("customers.write")
    allowed = (
        scope is Scope.ALL
        or (scope is Scope.OWN and user.id == actor.id)
        or (scope is Scope.TEAM and user.branch_id == actor.branch_id)
        or (
            scope is Scope.BRANCH
            and branch is not None
            and actor.branch_path is not None
            and branch.path.startswith(actor.branch_path)
        )
    )
    if not allowed or branch is None or user.disabled_at is not None:
        raise Forbidden("customers.owner_out_of_scope", owner=owner)
    return user.id, branch.id


async def _refuse_duplicate(
    session: AsyncSession, actor: Actor, columns: dict[str, Any], exclude: str | None
) -> None:
    """409 when an active customer already has this ID number or USCC, naming it if the caller may."""
    for column, field_name in ((Customer.id_number_index, "id_number_index"), (Customer.uscc, "uscc")):
        value = columns.get(field_name)
        if not value:
            continue
        statement = select(Customer.id).where(column == value, Customer.status == "active")
        if exclude:
            statement = statement.where(Customer.id != exclude)
        existing = await session.scalar(statement)
        if existing is None:
            continue
        seen = await session.scalar(
            visible(actor).with_only_columns(Customer.id).where(Customer.id == existing)
        )
        reported = "id_number" if field_name == "id_number_index" else "uscc"
        raise Conflict(
            "customers.duplicate" if seen else "customers.duplicate_elsewhere",
            errors=[
                {
                    "field": reported,
                    "code": "customers.duplicate" if seen else "customers.duplicate_elsewhere",
                }
            ],
            existing_id=existing if seen else "-",
        )


async def possible_duplicates(session: AsyncSession, actor: Actor, customer: Customer) -> list[str]:
    """Other active customers the caller can see who share this one's mobile or bank card."""
    conditions = [
        column == value
        for column, value in (
            (Customer.mobile_index, customer.mobile_index),
            (Customer.bank_card_index, customer.bank_card_index),
        )
        if value
    ]
    if not conditions:
        return []
    statement = (
        visible(actor)
        .with_only_columns(Customer.id)
        .where(or_(*conditions), Customer.status == "active", Customer.id != customer.id)
        .order_by(Customer.created_at)
        .limit(20)
    )
    return list((await session.scalars(statement)).all())


async def register(session: AsyncSession, actor: Actor, fields: CustomerFields, *, today: date) -> Customer:
    """A new customer, once every field passes and no active customer has the same ID or USCC."""
    kind = fields.kind or ""
    checked = _check(fields, kind, today=today, creating=True)
    if checked.errors:
        raise Invalid("customers.invalid", errors=checked.errors, count=len(checked.errors))
    owner_id, branch_id = await _placement(session, actor, fields.owner)
    columns = _seal_values(checked.values)
    await _refuse_duplicate(session, actor, columns, exclude=None)
    customer = Customer(kind=kind, owner_id=owner_id, branch_id=branch_id, **columns)
    try:
        async with session.begin_nested():
            session.add(customer)
    except IntegrityError:  # a concurrent registration of the same person won the unique index
        raise Conflict(
            "customers.duplicate_elsewhere",
            errors=[
                {
                    "field": "id_number" if kind == "person" else "uscc",
                    "code": "customers.duplicate_elsewhere",
                }
            ],
            existing_id=None,
        ) from None
    await audit.record(
        session,
        actor,
        "customers.create",
        target_type="customer",
        target_id=customer.id,
        after=audit_view(customer),
    )
    return customer


async def update(
    session: AsyncSession,
    actor: Actor,
    customer_id: str,
    fields: CustomerFields,
    *,
    today: date,
    expected_version: int | None = None,
) -> Customer:
    """The customer with ``fields`` changed; refused when it changed since ``expected_version``."""
    customer = await get_visible(session, actor, customer_id, "customers.write")
    if customer.status != "active":
        raise Conflict("customers.merged", into=customer.merged_into_id)
    if expected_version is not None and expected_version != customer.version:
        raise Conflict("customers.stale", expected=expected_version, current=customer.version)
    if fields.kind is not None and fields.kind != customer.kind:
        raise Invalid(
            "customers.invalid", errors=[{"field": "kind", "code": "customers.kind_fixed"}], count=1
        )
    checked = _check(fields, customer.kind, today=today, creating=False)
    if checked.errors:
        raise Invalid("customers.invalid", errors=checked.errors, count=len(checked.errors))
    before = audit_view(customer)
    if fields.owner is not None:
        customer.owner_id, customer.branch_id = await _placement(session, actor, fields.owner)
    columns = _seal_values(checked.values)
    await _refuse_duplicate(session, actor, columns, exclude=customer.id)
    for name, value in columns.items():
        setattr(customer, name, value)
    customer.version += 1
    await session.flush()
    changed_before, changed_after = audit.changed_fields(before, audit_view(customer))
    await audit.record(
        session,
        actor,
        "customers.update",
        target_type="customer",
        target_id=customer.id,
        before=changed_before,
        after=changed_after,
    )
    return customer
